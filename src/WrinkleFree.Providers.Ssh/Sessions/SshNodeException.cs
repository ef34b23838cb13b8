using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Providers.Ssh.Sessions;

/// <summary>A node could not be used; the message names the node (user@host:port) and what to do next.</summary>
public sealed class SshNodeException(SshNode node, string message, Exception? inner = null)
    : Exception($"{node.Name}: {message}", inner)
{
    public SshNode Node { get; } = node;
}
