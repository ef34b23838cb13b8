using System.Diagnostics;
using System.Runtime.CompilerServices;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Sessions;

namespace WrinkleFree.Providers.Ssh.Tests.Support;

/// <summary>
/// TEST DOUBLE for <see cref="ISshSession"/> until the SSH.NET session arrives: each command runs as a real child process
/// of <c>/bin/sh -c</c> on this machine, and file operations act on the local file system, so the node scripts under test
/// are real shell against a real file system. Not a node: there is no SSH, no SFTP and no separate machine.
/// </summary>
internal class LocalShellSession(SshNode node) : ISshSession
{
    public SshNode Node { get; } = node;

    public bool IsConnected { get; private set; } = true;

    public virtual async Task<SshCommandResult> RunAsync(string command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var process = Start(command);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(limit.Token);
        var stderr = process.StandardError.ReadToEndAsync(limit.Token);
        try
        {
            await process.WaitForExitAsync(limit.Token);
            return new SshCommandResult(process.ExitCode, await stdout, await stderr);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Node.Name}: command timed out after {timeout}");
        }
    }

    public async IAsyncEnumerable<string> StreamLinesAsync(string command, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var process = Start(command);
        try
        {
            while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
            {
                yield return line;
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    public Task<long?> GetFileSizeAsync(string remotePath, CancellationToken cancellationToken)
    {
        var info = new FileInfo(remotePath);
        return Task.FromResult(info.Exists ? info.Length : (long?)null);
    }

    public virtual async Task UploadAsync(Stream source, string remotePath, long offset, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        await using var target = new FileStream(remotePath, FileMode.OpenOrCreate, FileAccess.Write);
        target.SetLength(offset);
        target.Position = offset;
        var buffer = new byte[81920];
        long done = offset;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            done += read;
            progress?.Report(done);
        }
    }

    /// <summary>The node is this machine, so the port is reached directly.</summary>
    public Task<int> ForwardLocalPortAsync(string remoteHost, int remotePort, CancellationToken cancellationToken) => Task.FromResult(remotePort);

    public ValueTask DisposeAsync()
    {
        IsConnected = false;
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private static Process Start(string command)
    {
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        var process = Process.Start(info)!;
        process.StandardInput.Close();
        return process;
    }
}
