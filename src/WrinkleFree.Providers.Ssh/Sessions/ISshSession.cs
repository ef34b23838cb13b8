using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Providers.Ssh.Sessions;

/// <summary>
/// An open SSH connection to one node (through its jump host when it has one): commands, files over SFTP and forwarded
/// ports. Everything the provider and `wf ssh` do on a node goes through this seam, so their logic is tested over a real
/// sshd and their scripts can be read in one place.
/// </summary>
public interface ISshSession : IAsyncDisposable
{
    SshNode Node { get; }

    /// <summary>Whether the connection is still up (a dead link or sshd shows here before the next command fails).</summary>
    bool IsConnected { get; }

    /// <summary>Runs <paramref name="command"/> with <c>/bin/sh -c</c> semantics; times out (throwing <see cref="TimeoutException"/> naming the node) after <paramref name="timeout"/>.</summary>
    Task<SshCommandResult> RunAsync(string command, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Runs a long command (a log follow) and yields its stdout lines until it ends or the token is cancelled.</summary>
    IAsyncEnumerable<string> StreamLinesAsync(string command, CancellationToken cancellationToken);

    /// <summary>Size of a remote file, or null when there is none.</summary>
    Task<long?> GetFileSizeAsync(string remotePath, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="source"/> (positioned at <paramref name="offset"/>) to <paramref name="remotePath"/> starting at
    /// <paramref name="offset"/>, so an interrupted upload resumes where it stopped; reports bytes written so far.
    /// </summary>
    Task UploadAsync(Stream source, string remotePath, long offset, IProgress<long>? progress, CancellationToken cancellationToken);

    /// <summary>
    /// A loopback port on this machine that reaches <paramref name="remoteHost"/>:<paramref name="remotePort"/> as seen
    /// from the node (ssh -L); open until the session is disposed. Used for replicas behind a bastion.
    /// </summary>
    Task<int> ForwardLocalPortAsync(string remoteHost, int remotePort, CancellationToken cancellationToken);
}
