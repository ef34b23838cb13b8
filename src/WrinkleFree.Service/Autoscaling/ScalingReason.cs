namespace WrinkleFree.Service.Autoscaling;

/// <summary>What drove the autoscaler's latest target.</summary>
public enum ScalingReason
{
    /// <summary>No change wanted, or a wanted change is still waiting out its delay.</summary>
    Hold,

    /// <summary>The request rate moved the target after the up- or downscale delay.</summary>
    RequestRate,

    /// <summary>Requests arrived at zero replicas: scaled up at once, ignoring the delay.</summary>
    ScaleFromZero,

    /// <summary>Ready replicas' median time to first token was above the threshold.</summary>
    Latency,

    /// <summary>A replica's queue was deeper than the emergency threshold: scaled up at once.</summary>
    Emergency,

    /// <summary>The policy changed (an update): counters reset and the target re-clamped.</summary>
    PolicyChanged,
}
