namespace WrinkleFree.Service.Controller;

/// <summary>Classifications of <see cref="ReplicaStatus"/> that the autoscaler, planner and load balancer share.</summary>
public static class ReplicaStatusExtensions
{
    /// <summary>True for states a replica never leaves: it is only cleaned up and, if still wanted, replaced.</summary>
    public static bool IsTerminal(this ReplicaStatus status) => status is ReplicaStatus.Failed
        or ReplicaStatus.FailedInitialDelay or ReplicaStatus.FailedProbing or ReplicaStatus.FailedProvision
        or ReplicaStatus.FailedCleanup or ReplicaStatus.Preempted;

    /// <summary>
    /// True for replicas counted against max_replicas: every live one, including those still provisioning or starting
    /// (counting only ready ones is how SkyServe overshot max, skypilot#3255). Draining replicas are leaving and take no
    /// new traffic, so they do not block their replacements.
    /// </summary>
    public static bool CountsTowardMax(this ReplicaStatus status) =>
        !status.IsTerminal() && status != ReplicaStatus.ShuttingDown;

    /// <summary>True when the replica receives traffic.</summary>
    public static bool IsReady(this ReplicaStatus status) => status == ReplicaStatus.Ready;

    /// <summary>True for a replica that still occupies a slot of its tier's capacity (live or draining).</summary>
    public static bool OccupiesCapacity(this ReplicaStatus status) => !status.IsTerminal();

    /// <summary>
    /// Scale-down preference: lower goes first. Replicas that serve nothing yet go before ready ones, and the least
    /// advanced of them first, as SkyServe orders its victims.
    /// </summary>
    public static int ScaleDownRank(this ReplicaStatus status) => status switch
    {
        ReplicaStatus.Pending => 0,
        ReplicaStatus.Provisioning => 1,
        ReplicaStatus.Starting => 2,
        ReplicaStatus.NotReady => 3,
        ReplicaStatus.Unknown => 4,
        _ => 5,
    };

    /// <summary>The SkyServe spelling (READY, NOT_READY, FAILED_INITIAL_DELAY, ...) used in state files and `wf status`.</summary>
    public static string ToSkyServeName(this ReplicaStatus status) => status switch
    {
        ReplicaStatus.Pending => "PENDING",
        ReplicaStatus.Provisioning => "PROVISIONING",
        ReplicaStatus.Starting => "STARTING",
        ReplicaStatus.Ready => "READY",
        ReplicaStatus.NotReady => "NOT_READY",
        ReplicaStatus.ShuttingDown => "SHUTTING_DOWN",
        ReplicaStatus.Failed => "FAILED",
        ReplicaStatus.FailedInitialDelay => "FAILED_INITIAL_DELAY",
        ReplicaStatus.FailedProbing => "FAILED_PROBING",
        ReplicaStatus.FailedProvision => "FAILED_PROVISION",
        ReplicaStatus.FailedCleanup => "FAILED_CLEANUP",
        ReplicaStatus.Preempted => "PREEMPTED",
        _ => "UNKNOWN",
    };

    /// <summary>Parses a SkyServe status name (case-insensitive); false for anything else.</summary>
    public static bool TryParseSkyServeName(string? name, out ReplicaStatus status)
    {
        foreach (var candidate in Enum.GetValues<ReplicaStatus>())
        {
            if (string.Equals(candidate.ToSkyServeName(), name, StringComparison.OrdinalIgnoreCase))
            {
                status = candidate;
                return true;
            }
        }
        status = ReplicaStatus.Unknown;
        return false;
    }
}
