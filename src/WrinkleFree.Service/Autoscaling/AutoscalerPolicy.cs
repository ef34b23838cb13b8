namespace WrinkleFree.Service.Autoscaling;

/// <summary>
/// The autoscaler's settings: SkyServe's replica_policy plus the design's latency and queue signals. The service spec is
/// mapped onto this record; <see cref="Validate"/> runs once at that edge.
/// </summary>
public sealed record AutoscalerPolicy
{
    /// <summary>Fewest replicas; never undercut (0 allows scale to zero).</summary>
    public int MinReplicas { get; init; } = 1;

    /// <summary>Most replicas, counting every live one including those still provisioning; never exceeded.</summary>
    public int MaxReplicas { get; init; } = 1;

    /// <summary>Requests per second one replica should carry; null pins the service at <see cref="MinReplicas"/>.</summary>
    public double? TargetQpsPerReplica { get; init; }

    /// <summary>How long the load must keep wanting more replicas before they are added (SkyServe default 300 s).</summary>
    public TimeSpan UpscaleDelay { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>How long the load must keep wanting fewer replicas before they are removed (SkyServe default 1200 s).</summary>
    public TimeSpan DownscaleDelay { get; init; } = TimeSpan.FromSeconds(1200);

    /// <summary>Extra replicas kept above the computed target (still capped by <see cref="MaxReplicas"/>).</summary>
    public int NumOverprovision { get; init; }

    /// <summary>Ready replicas' median time to first token above this adds one replica (through the upscale delay).</summary>
    public TimeSpan TtftThreshold { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Any replica's queue deeper than this adds replicas at once, ignoring the upscale delay.</summary>
    public int EmergencyQueueDepth { get; init; } = 100;

    /// <summary>Time between decisions while the service has replicas.</summary>
    public TimeSpan DecisionInterval { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Time between decisions while the target is zero, so a first request is noticed quickly.</summary>
    public TimeSpan ZeroReplicaDecisionInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The sliding window QPS is measured over.</summary>
    public TimeSpan QpsWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting; returns this for chaining.</summary>
    public AutoscalerPolicy Validate()
    {
        if (MinReplicas < 0)
            throw Bad(nameof(MinReplicas), "min_replicas must be >= 0", MinReplicas);
        if (MaxReplicas < 1 || MaxReplicas < MinReplicas)
            throw Bad(nameof(MaxReplicas), $"max_replicas must be >= max(1, min_replicas = {MinReplicas})", MaxReplicas);
        if (TargetQpsPerReplica is { } qps && !(qps > 0 && double.IsFinite(qps)))
            throw Bad(nameof(TargetQpsPerReplica), "target_qps_per_replica must be a positive number", qps);
        if (TargetQpsPerReplica is null && MinReplicas != MaxReplicas)
            throw Bad(nameof(TargetQpsPerReplica), "target_qps_per_replica is required when min_replicas != max_replicas", "null");
        if (UpscaleDelay < TimeSpan.Zero)
            throw Bad(nameof(UpscaleDelay), "upscale_delay_seconds must be >= 0", UpscaleDelay.TotalSeconds);
        if (DownscaleDelay < TimeSpan.Zero)
            throw Bad(nameof(DownscaleDelay), "downscale_delay_seconds must be >= 0", DownscaleDelay.TotalSeconds);
        if (NumOverprovision < 0)
            throw Bad(nameof(NumOverprovision), "num_overprovision must be >= 0", NumOverprovision);
        if (TtftThreshold <= TimeSpan.Zero)
            throw Bad(nameof(TtftThreshold), "the TTFT threshold must be > 0", TtftThreshold.TotalMilliseconds);
        if (EmergencyQueueDepth < 1)
            throw Bad(nameof(EmergencyQueueDepth), "the emergency queue depth must be >= 1", EmergencyQueueDepth);
        if (DecisionInterval <= TimeSpan.Zero)
            throw Bad(nameof(DecisionInterval), "the decision interval must be > 0", DecisionInterval.TotalSeconds);
        if (ZeroReplicaDecisionInterval <= TimeSpan.Zero)
            throw Bad(nameof(ZeroReplicaDecisionInterval), "the zero-replica decision interval must be > 0", ZeroReplicaDecisionInterval.TotalSeconds);
        if (QpsWindow < TimeSpan.FromSeconds(1))
            throw Bad(nameof(QpsWindow), "the QPS window must be >= 1 s", QpsWindow.TotalSeconds);
        return this;
    }

    private static ArgumentException Bad(string name, string rule, object value) => new($"{rule}, got {value}", name);
}
