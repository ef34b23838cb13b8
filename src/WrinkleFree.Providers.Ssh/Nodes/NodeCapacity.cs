namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>
/// How many replicas of one shape a node holds: the pool's explicit <c>replicas_per_node</c> when given, else as many as
/// fit by CPUs and by memory (the same rule as the service's ResourceFit: a replica gets what it asked for, whole).
/// </summary>
public static class NodeCapacity
{
    /// <summary>
    /// Replicas asking <paramref name="cpus"/> CPUs and <paramref name="memoryGiB"/> GiB that fit on the node; one when
    /// the replica asks for nothing and the pool says nothing.
    /// </summary>
    public static int Replicas(NodeFacts facts, double? cpus, double? memoryGiB, int? replicasPerNode = null)
    {
        ArgumentNullException.ThrowIfNull(facts);
        return Replicas(facts.Cores, facts.MemoryGiB, cpus, memoryGiB, replicasPerNode);
    }

    /// <summary>The same for a node of <paramref name="cores"/> cores and <paramref name="nodeMemoryGiB"/> GiB.</summary>
    public static int Replicas(int cores, double nodeMemoryGiB, double? cpus, double? memoryGiB, int? replicasPerNode = null)
    {
        if (replicasPerNode is { } explicitCount)
        {
            return explicitCount >= 0 ? explicitCount : throw new ArgumentOutOfRangeException(nameof(replicasPerNode), explicitCount, "replicas_per_node must be >= 0");
        }

        if (cpus is null or <= 0 && memoryGiB is null or <= 0)
        {
            return 1;
        }

        var byCpus = cpus is { } c and > 0 ? Floor(cores / c) : int.MaxValue;
        var byMemory = memoryGiB is { } m and > 0 ? Floor(nodeMemoryGiB / m) : int.MaxValue;
        return Math.Min(byCpus, byMemory);
    }

    /// <summary>Replicas still free on the node: its capacity less ours already running there.</summary>
    public static int Free(NodeFacts facts, double? cpus, double? memoryGiB, int? replicasPerNode = null)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var running = facts.Replicas.Count(r => r.Status.State == Service.Providers.ProviderReplicaState.Running);
        return Math.Max(0, Replicas(facts, cpus, memoryGiB, replicasPerNode) - running);
    }

    // Floating error must not lose a whole replica (64 GiB / 8 GiB is 8, not 7.999).
    private static int Floor(double ratio) => ratio >= int.MaxValue ? int.MaxValue : (int)Math.Floor(ratio + 1e-9);
}
