namespace WrinkleFree.Service.Daemon;

/// <summary>One replica in the admin API's answers (`wf status --json`).</summary>
public sealed record ReplicaView
{
    public required int Id { get; init; }

    public required string Tier { get; init; }

    /// <summary>The SkyServe status name (READY, STARTING, ...).</summary>
    public required string Status { get; init; }

    public string? Endpoint { get; init; }

    public double CostPerHour { get; init; }

    /// <summary>The process id of a local replica.</summary>
    public int? Pid { get; init; }

    public int Version { get; init; }

    public DateTimeOffset Launched { get; init; }

    /// <summary>Why it failed (exit code and last log lines, a probe that never passed), or null.</summary>
    public string? FailureReason { get; init; }
}
