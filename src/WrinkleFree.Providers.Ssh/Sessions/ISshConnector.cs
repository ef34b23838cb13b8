using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Providers.Ssh.Sessions;

/// <summary>Opens sessions to nodes: authentication, host-key checking, timeouts, retries and jump hosts live behind it.</summary>
public interface ISshConnector
{
    /// <summary>
    /// Connects to <paramref name="node"/>; throws <see cref="SshNodeException"/> naming the node and what failed
    /// (unreachable, host key unknown or changed, authentication refused, key file unreadable).
    /// </summary>
    Task<ISshSession> ConnectAsync(SshNode node, CancellationToken cancellationToken);
}
