namespace WrinkleFree.Service.Daemon;

/// <summary>One service in the admin API's answers (`wf status --json`): its endpoint, load, cost and replicas.</summary>
public sealed record ServiceView
{
    public required string Name { get; init; }

    public int Version { get; init; }

    /// <summary>The SkyServe service status name (CONTROLLER_INIT, REPLICA_INIT, READY, NO_REPLICA, SHUTTING_DOWN).</summary>
    public required string Status { get; init; }

    public required string Endpoint { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public int TargetReplicas { get; init; }

    public int ReadyReplicas { get; init; }

    public double Qps { get; init; }

    /// <summary>Dollars per hour of the replicas holding capacity now.</summary>
    public double CostPerHour { get; init; }

    public IReadOnlyList<ReplicaView> Replicas { get; init; } = [];
}
