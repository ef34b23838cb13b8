using System.Text.Json.Serialization;

namespace WrinkleFree.Service.Daemon;

/// <summary>One service in the admin API's answers (`wf status --json`): its endpoint, load, cost and replicas.</summary>
public sealed record ServiceView
{
    public required string Name { get; init; }

    public int Version { get; init; }

    /// <summary>The SkyServe service status name (CONTROLLER_INIT, REPLICA_INIT, READY, NO_REPLICA, FAILED, SHUTTING_DOWN).</summary>
    public required string Status { get; init; }

    public required string Endpoint { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public int TargetReplicas { get; init; }

    public int ReadyReplicas { get; init; }

    public double Qps { get; init; }

    /// <summary>Dollars per hour of the replicas holding capacity now.</summary>
    public double CostPerHour { get; init; }

    public IReadOnlyList<ReplicaView> Replicas { get; init; } = [];

    /// <summary>"keys" when requests need an API key, "open" when no key applies to the service and anyone may call it.</summary>
    public string Auth { get; init; } = "open";

    /// <summary>Why the service is FAILED (it stopped replacing replicas that kept failing), or null.</summary>
    public string? Failure { get; init; }

    /// <summary>The latest replica failure since the spec last changed, or null.</summary>
    public string? LastFailure { get; init; }

    /// <summary>The replica of <see cref="LastFailure"/> (`wf logs NAME ID` shows its output), or null.</summary>
    public int? LastFailedReplica { get; init; }

    /// <summary>When launches held back after failures resume, or null.</summary>
    public DateTimeOffset? NextLaunchAt { get; init; }

    /// <summary>
    /// Set on answers to create: true when a service of that name already ran this very spec (nothing was changed).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Existing { get; init; }

    /// <summary>
    /// Set on answers to update: "none" (replicas keep running), "surge" (new replicas start beside the old ones, which go
    /// as the new ones become ready) or "in_place" (every tier is full: one old replica stops before each new one starts).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Rollout { get; init; }
}
