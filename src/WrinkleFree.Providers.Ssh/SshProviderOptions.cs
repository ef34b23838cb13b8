namespace WrinkleFree.Providers.Ssh;

/// <summary>How the ssh provider runs its replicas and watches its nodes.</summary>
public sealed record SshProviderOptions
{
    /// <summary>How often every node of a pool in use is checked (connection up, facts, deferred stops).</summary>
    public TimeSpan NodeCheckInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Port of a replica when the spec names none; the next free one on the node is used when taken.</summary>
    public int FirstPort { get; init; } = 8080;

    /// <summary>How long a stopped replica may drain before it is killed (the unit's TimeoutStopSec).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Address replicas listen on; null: the node's own address from the pool file.</summary>
    public string? ListenAddress { get; init; }

    /// <summary>
    /// Reach replicas behind a jump host on their private address (the balancer runs inside the private network)
    /// instead of through a forwarded port over SSH.
    /// </summary>
    public bool DirectToPrivateAddresses { get; init; }

    /// <summary>
    /// Where on a node replicas and files live; null: the layout's default (/opt/wrinklefree for root). Nodes that share
    /// one filesystem (test namespaces on one machine) need a folder each.
    /// </summary>
    public Func<Pools.SshNode, string?> NodeRoot { get; init; } = _ => null;
}
