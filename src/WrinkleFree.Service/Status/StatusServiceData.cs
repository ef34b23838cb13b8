namespace WrinkleFree.Service.Status;

/// <summary>One service on the status page: its summary row, tier bands, replicas and chart history.</summary>
public sealed record StatusServiceData
{
    public required string Name { get; init; }

    /// <summary>The SkyServe service status name (READY, REPLICA_INIT, NO_REPLICA...).</summary>
    public required string Status { get; init; }

    public int Version { get; init; }

    public required string Endpoint { get; init; }

    public int TargetReplicas { get; init; }

    public int ReadyReplicas { get; init; }

    public double Qps { get; init; }

    public double CostPerHour { get; init; }

    /// <summary>Median over ready replicas of their median time to first token, null when none reported one.</summary>
    public double? TtftP50Ms { get; init; }

    /// <summary>Tiers cheapest first (ties in declared order): the order replicas fill them.</summary>
    public required IReadOnlyList<StatusTierData> Tiers { get; init; }

    public required IReadOnlyList<StatusReplicaData> Replicas { get; init; }

    /// <summary>Samples of the last hour, oldest first; the last one is taken when the page asked.</summary>
    public required IReadOnlyList<HistorySample> History { get; init; }
}
