namespace WrinkleFree.Service.Controller;

/// <summary>A service's state after its latest reconcile tick, immutable so readers never see a half-done tick.</summary>
/// <param name="Name">The service name.</param>
/// <param name="Version">The spec version in force.</param>
/// <param name="Status">The SkyServe service status (CONTROLLER_INIT, REPLICA_INIT, READY, NO_REPLICA, SHUTTING_DOWN).</param>
/// <param name="Endpoint">The service endpoint clients call.</param>
/// <param name="TargetReplicas">The autoscaler's current target.</param>
/// <param name="Qps">Requests per second over the autoscaler's window.</param>
/// <param name="Replicas">The live and not yet cleaned-up replicas, by id.</param>
/// <param name="Tick">How many reconcile ticks have completed (each probes every replica once): lets a caller count probe
/// rounds instead of guessing at wall-clock time.</param>
/// <param name="Failure">Why the service is FAILED (it gave up replacing replicas that kept failing), or null.</param>
/// <param name="LastFailure">The latest replica failure since the spec last changed, or null.</param>
/// <param name="NextLaunchAt">When launches held back after failures may resume, or null when none are held back.</param>
public sealed record ServiceSnapshot(
    string Name, int Version, string Status, Uri Endpoint, int TargetReplicas, double Qps, IReadOnlyList<ReplicaSnapshot> Replicas, long Tick = 0,
    string? Failure = null, string? LastFailure = null, DateTimeOffset? NextLaunchAt = null)
{
    /// <summary>Replicas now READY.</summary>
    public int ReadyCount => Replicas.Count(r => r.Status == ReplicaStatus.Ready);

    /// <summary>Dollars per hour of the replicas that hold capacity now.</summary>
    public double CostPerHour => Replicas.Where(r => r.Status.OccupiesCapacity()).Sum(r => r.CostPerHour);
}
