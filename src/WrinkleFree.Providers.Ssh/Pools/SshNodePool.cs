namespace WrinkleFree.Providers.Ssh.Pools;

/// <summary>One pool of <c>ssh_node_pools.yaml</c>: its nodes with the pool's defaults applied.</summary>
public sealed record SshNodePool
{
    /// <summary>The pool's name (the top-level key), as a tier's <c>settings: {pool: NAME}</c> names it.</summary>
    public required string Name { get; init; }

    /// <summary>The nodes in file order; never empty.</summary>
    public required IReadOnlyList<SshNode> Nodes { get; init; }

    /// <summary>Our <c>replicas_per_node</c>: an explicit replica count per node; null to size by the spec's cpus/memory.</summary>
    public int? ReplicasPerNode { get; init; }
}
