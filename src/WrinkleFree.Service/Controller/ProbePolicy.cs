namespace WrinkleFree.Service.Controller;

/// <summary>Readiness-probe settings for <see cref="ReplicaProbeTracker"/>; defaults follow SkyServe where it has one.</summary>
public sealed record ProbePolicy
{
    /// <summary>How long a new replica may take to pass its first probe (SkyServe initial_delay_seconds, 1200 s).</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1200);

    /// <summary>How long a once-ready replica may fail probes before it is failed (SkyServe consecutive_failure_threshold_timeout, 180 s).</summary>
    public TimeSpan ConsecutiveFailureTimeout { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>A probe answered 200 but slower than this marks the replica not ready (busy).</summary>
    public TimeSpan LatencyThreshold { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public ProbePolicy Validate()
    {
        if (InitialDelay < TimeSpan.Zero)
            throw new ArgumentException($"initial_delay_seconds must be >= 0, got {InitialDelay.TotalSeconds}", nameof(InitialDelay));
        if (ConsecutiveFailureTimeout < TimeSpan.Zero)
            throw new ArgumentException($"consecutive_failure_threshold_timeout must be >= 0, got {ConsecutiveFailureTimeout.TotalSeconds}", nameof(ConsecutiveFailureTimeout));
        if (LatencyThreshold <= TimeSpan.Zero)
            throw new ArgumentException($"probe latency threshold must be > 0, got {LatencyThreshold.TotalMilliseconds} ms", nameof(LatencyThreshold));
        return this;
    }
}
