namespace WrinkleFree.Providers.Ssh.Pools;

/// <summary>
/// One node of a pool as <c>ssh_node_pools.yaml</c> describes it after pool-level defaults are applied: where to
/// connect, as whom, with what, and through which jump host. <see cref="Name"/> is the host as the file writes it,
/// used in every message about the node.
/// </summary>
public sealed record SshNode
{
    /// <summary>The pool the node belongs to.</summary>
    public required string Pool { get; init; }

    /// <summary>The node's address (IPv4, IPv6 or DNS name), as <c>ip</c> (or the bare string entry) gives it.</summary>
    public required string Host { get; init; }

    public int Port { get; init; } = 22;

    public required string User { get; init; }

    /// <summary>Private key file (OpenSSH or PEM); null when a password is used.</summary>
    public string? IdentityFile { get; init; }

    public string? Password { get; init; }

    /// <summary>The jump host (ssh's ProxyJump) this node is reached through; null for a direct connection.</summary>
    public SshNode? ProxyJump { get; init; }

    /// <summary>How the node is named in messages: user@host:port (via jump).</summary>
    public string Name => $"{User}@{(Host.Contains(':') ? $"[{Host}]" : Host)}{(Port == 22 ? "" : $":{Port}")}"
        + (ProxyJump is { } jump ? $" (via {jump.Name})" : "");
}
