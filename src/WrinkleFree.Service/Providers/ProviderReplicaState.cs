namespace WrinkleFree.Service.Providers;

/// <summary>The provider-level condition of a replica (readiness is the prober's business, not the provider's).</summary>
public enum ProviderReplicaState
{
    /// <summary>The provider cannot tell (no such handle, the node is unreachable).</summary>
    Unknown,

    /// <summary>The process, pod or instance is alive.</summary>
    Running,

    /// <summary>The replica ended; the exit code is given when the provider knows it.</summary>
    Exited,

    /// <summary>The capacity under the replica was taken away (spot reclaim, node drained).</summary>
    Preempted,
}
