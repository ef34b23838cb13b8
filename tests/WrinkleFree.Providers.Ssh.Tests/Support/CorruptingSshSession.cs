using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Sessions;

namespace WrinkleFree.Providers.Ssh.Tests.Support;

/// <summary>
/// TEST DOUBLE around a real session: its first <paramref name="corruptUploads"/> uploads arrive with one byte changed,
/// the change made on the node itself over the same SSH connection (as a bad disk or a broken transfer would leave it).
/// </summary>
internal sealed class CorruptingSshSession(ISshSession inner, int corruptUploads) : ISshSession
{
    public int Uploads { get; private set; }

    public SshNode Node => inner.Node;

    public bool IsConnected => inner.IsConnected;

    public Task<SshCommandResult> RunAsync(string command, TimeSpan timeout, CancellationToken cancellationToken) => inner.RunAsync(command, timeout, cancellationToken);

    public IAsyncEnumerable<string> StreamLinesAsync(string command, CancellationToken cancellationToken) => inner.StreamLinesAsync(command, cancellationToken);

    public Task<long?> GetFileSizeAsync(string remotePath, CancellationToken cancellationToken) => inner.GetFileSizeAsync(remotePath, cancellationToken);

    public async Task UploadAsync(Stream source, string remotePath, long offset, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        await inner.UploadAsync(source, remotePath, offset, progress, cancellationToken);
        if (++Uploads <= corruptUploads)
        {
            // Overwrite the middle byte in place with the complement of what is there (so it always changes).
            var flip = $"f='{remotePath}'; n=$(( $(wc -c < \"$f\") / 2 )); "
                + "b=$(od -An -tu1 -j \"$n\" -N1 \"$f\" | tr -d ' '); "
                + "printf \"\\\\$(printf %03o $(( 255 - b )))\" | dd of=\"$f\" bs=1 seek=\"$n\" conv=notrunc 2>/dev/null";
            var result = await inner.RunAsync(flip, TimeSpan.FromSeconds(30), cancellationToken);
            if (result.ExitCode != 0)
                throw new InvalidOperationException($"could not corrupt {remotePath}: {result.Stderr}");
        }
    }

    public Task<int> ForwardLocalPortAsync(string remoteHost, int remotePort, CancellationToken cancellationToken) => inner.ForwardLocalPortAsync(remoteHost, remotePort, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
