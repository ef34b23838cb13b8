using System.Security.Cryptography;
using WrinkleFree.Providers.Ssh.Sessions;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>
/// Puts local files on a node so that a second run sends nothing: a file whose SHA-256 already matches is skipped, an
/// interrupted upload resumes from its <c>PATH.part</c>, every upload is verified by SHA-256 on the node before an atomic
/// <c>mv</c> puts it in place (a corrupted upload is sent once more, then reported with both hashes).
/// </summary>
public static class NodeInstaller
{
    /// <summary>Uploads per file before a mismatch is an error.</summary>
    public const int MaxAttempts = 2;

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Installs <paramref name="items"/> in order; progress reports (file name, bytes done, bytes total).</summary>
    public static async Task<IReadOnlyList<InstallResult>> InstallAsync(
        ISshSession session,
        IReadOnlyList<InstallItem> items,
        IProgress<(string File, long Done, long Total)>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(items);
        var results = new List<InstallResult>(items.Count);
        foreach (var item in items)
        {
            results.Add(await InstallAsync(session, item, await Sha256Async(item.LocalPath, cancellationToken).ConfigureAwait(false), progress, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    /// <summary>Installs one file whose SHA-256 (lowercase hex) the caller already knows.</summary>
    public static async Task<InstallResult> InstallAsync(
        ISshSession session,
        InstallItem item,
        string sha256,
        IProgress<(string File, long Done, long Total)>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(item);
        var name = Path.GetFileName(item.LocalPath);
        var total = new FileInfo(item.LocalPath).Length;
        var target = ShellQuote.Quote(item.RemotePath);
        var part = item.RemotePath + ".part";
        var quotedPart = ShellQuote.Quote(part);

        var present = await RunAsync(session, $"{NodeScripts.Functions}mkdir -p {ShellQuote.Quote(RemoteDirectory(item.RemotePath))} && if [ -f {target} ]; then wf_sha256 {target}; fi", item, cancellationToken).ConfigureAwait(false);
        if (present.Trim() == sha256)
        {
            progress?.Report((name, total, total));
            return new InstallResult(item.RemotePath, InstallOutcome.Skipped, 0, sha256);
        }

        long sent = 0;
        var resumed = false;
        string? lastHash = null;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var offset = attempt == 1 ? await session.GetFileSizeAsync(part, cancellationToken).ConfigureAwait(false) ?? 0 : 0;
            if (offset > total)
            {
                offset = 0; // not a prefix of this file: start over
            }

            resumed |= attempt == 1 && offset > 0;
            await using (var source = new FileStream(item.LocalPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
            {
                source.Position = offset;
                var start = offset;
                await session.UploadAsync(source, part, offset, new InlineProgress(done => progress?.Report((name, done, total))), cancellationToken).ConfigureAwait(false);
                sent += total - start;
            }

            lastHash = (await RunAsync(session, $"{NodeScripts.Functions}wf_sha256 {quotedPart}", item, cancellationToken).ConfigureAwait(false)).Trim();
            if (lastHash == sha256)
            {
                await RunAsync(session, $"chmod {(item.Executable ? "0755" : "0644")} {quotedPart} && mv -f {quotedPart} {target}", item, cancellationToken).ConfigureAwait(false);
                progress?.Report((name, total, total));
                return new InstallResult(item.RemotePath, resumed ? InstallOutcome.Resumed : InstallOutcome.Uploaded, sent, sha256);
            }

            await RunAsync(session, $"rm -f {quotedPart}", item, cancellationToken).ConfigureAwait(false);
        }

        throw new SshNodeException(session.Node,
            $"{item.RemotePath} (from {item.LocalPath}) arrived corrupted {MaxAttempts} times: SHA-256 on the node {lastHash}, expected {sha256}. "
            + "Check the node's disk (df, dmesg) and the link, then run `wf ssh up` again");
    }

    /// <summary>The SHA-256 of a local file as lowercase hex.</summary>
    public static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    private static string RemoteDirectory(string path) => path.LastIndexOf('/') is > 0 and var slash ? path[..slash] : "/";

    private static async Task<string> RunAsync(ISshSession session, string command, InstallItem item, CancellationToken cancellationToken)
    {
        var result = await session.RunAsync(command, CommandTimeout, cancellationToken).ConfigureAwait(false);
        return result.Succeeded
            ? result.Stdout
            : throw new SshNodeException(session.Node,
                $"installing {item.RemotePath} failed (exit code {result.ExitCode}): {NodeProbe.Trim(result.Stderr)}; check the login can write there and the disk has room");
    }

    // Progress<T> posts to the thread pool and may report after the upload returns; this reports in order, inline.
    private sealed class InlineProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
