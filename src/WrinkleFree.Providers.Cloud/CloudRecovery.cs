namespace WrinkleFree.Providers.Cloud;

/// <summary>Where a preempted replica's replacement is tried first (SkyPilot's names for the policies).</summary>
public enum CloudRecovery
{
    /// <summary><c>EAGER_NEXT_REGION</c>: the zone after the one that was preempted, then on down the list; that zone last.</summary>
    EagerNextRegion,

    /// <summary><c>FAILOVER</c>: the preempted zone again first (capacity often comes back), then the rest in order.</summary>
    Failover,
}
