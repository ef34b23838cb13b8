namespace WrinkleFree.Service.Spec;

/// <summary>
/// Upper bounds on the numbers and sizes a service spec may ask for. They are far above any real service and low enough
/// that a typo or a hostile spec (<c>replicas: 2147483647</c>) is an error at <c>wf up</c> instead of a daemon that
/// plans billions of replicas.
/// </summary>
public static class SpecLimits
{
    /// <summary>
    /// Most replicas (min, max, replicas, overprovision, fallback, a tier's capacity): ten times the largest fleet the
    /// design simulates (3,200 replicas at 14,000 QPS).
    /// </summary>
    public const int MaxReplicas = 10_000;

    /// <summary>Longest delay, timeout, period or window, in seconds (one day).</summary>
    public const int MaxSeconds = 86_400;

    /// <summary>Longest threshold in milliseconds (one day).</summary>
    public const int MaxMilliseconds = MaxSeconds * 1000;

    /// <summary>Highest target QPS per replica.</summary>
    public const double MaxTargetQps = 1_000_000;

    /// <summary>Highest queue depth that counts as an emergency.</summary>
    public const int MaxQueueDepth = 1_000_000;

    /// <summary>Most failures a failure policy may count, and most restarts a job recovery may allow.</summary>
    public const int MaxFailures = 10_000;

    /// <summary>Highest cost per hour of one tier's replica.</summary>
    public const double MaxCostPerHour = 1_000_000;

    /// <summary>Largest disk, in GB.</summary>
    public const int MaxDiskGb = 65_536;

    /// <summary>Most accelerators of one kind.</summary>
    public const double MaxAccelerators = 1024;

    /// <summary>Largest <c>run:</c> or <c>setup:</c> script, in UTF-8 bytes (64 KiB).</summary>
    public const int MaxScriptBytes = 64 * 1024;

    /// <summary>Most entries in <c>envs</c>, labels, probe headers and file mounts.</summary>
    public const int MaxEntries = 256;

    /// <summary>Largest total size of <c>envs</c> names and values, in UTF-8 bytes (256 KiB).</summary>
    public const int MaxEnvBytes = 256 * 1024;

    /// <summary>Most tiers.</summary>
    public const int MaxTiers = 64;
}
