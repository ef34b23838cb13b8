namespace WrinkleFree.Service.Status;

/// <summary>One replica row on the status page.</summary>
public sealed record StatusReplicaData
{
    public required int Id { get; init; }

    public required string Tier { get; init; }

    /// <summary>The SkyServe replica status name (READY, STARTING, FAILED...).</summary>
    public required string Status { get; init; }

    public int Version { get; init; }

    public string? Endpoint { get; init; }

    public DateTimeOffset LaunchedAt { get; init; }

    public double AgeSeconds { get; init; }

    public double CostPerHour { get; init; }

    public int? Pid { get; init; }

    public double? TtftP50Ms { get; init; }

    /// <summary>
    /// Why the replica last failed: the message of its latest replica_failed event, null when none was recorded. (The
    /// controller snapshot carries no failure reason yet; when it does, prefer it here.)
    /// </summary>
    public string? LastFailure { get; init; }
}
