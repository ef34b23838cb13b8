namespace WrinkleFree.Service.State;

/// <summary>A replica as stored. Ids are per service, start at 1 and are never reused, even after the service is deleted.</summary>
/// <remarks>
/// Status is the SkyServe replica status name, stored as text. <see cref="Handle"/> is the provider's handle as JSON
/// (pid and start time for local replicas) so that a restarted controller can adopt the replica.
/// </remarks>
public sealed record ReplicaRecord
{
    public required string Service { get; init; }

    public required int ReplicaId { get; init; }

    public required int Version { get; init; }

    public required string Tier { get; init; }

    public required string Provider { get; init; }

    public required string Status { get; init; }

    public string? EndpointUrl { get; init; }

    public string? Handle { get; init; }

    public double CostPerHour { get; init; }

    public required DateTimeOffset LaunchedAt { get; init; }

    public DateTimeOffset? ReadyAt { get; init; }

    public DateTimeOffset? TerminatedAt { get; init; }

    /// <summary>Why the replica failed (exit code, its last log lines, a probe that never passed), or null.</summary>
    public string? FailureReason { get; init; }

    /// <summary>True once the replica has been torn down for good (it stays stored for history).</summary>
    public bool IsTerminated => TerminatedAt is not null;
}
