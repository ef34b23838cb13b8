namespace WrinkleFree.Service.Spec;

/// <summary>
/// SkyServe's <c>service.replica_policy</c> (autoscaling bounds, target load and hysteresis) plus our latency and queue
/// signals.
/// </summary>
public sealed record ReplicaPolicySpec
{
    /// <summary>Replicas kept at all times (0 allows scale to zero).</summary>
    public required int MinReplicas { get; init; }

    /// <summary>Upper bound as written; null means "same as min" (see <see cref="EffectiveMaxReplicas"/>).</summary>
    public int? MaxReplicas { get; init; }

    /// <summary>Requests per second one replica should carry; required when min and max differ.</summary>
    public double? TargetQpsPerReplica { get; init; }

    /// <summary>How long the autoscaler must keep wanting more replicas before adding them.</summary>
    public int UpscaleDelaySeconds { get; init; } = 300;

    /// <summary>How long the autoscaler must keep wanting fewer replicas before removing them.</summary>
    public int DownscaleDelaySeconds { get; init; } = 1200;

    /// <summary>Replicas added on top of the computed target, as headroom.</summary>
    public int NumOverprovision { get; init; }

    /// <summary>SkyServe's on-demand replicas kept under spot ones; null when not set.</summary>
    public int? BaseOndemandFallbackReplicas { get; init; }

    /// <summary>SkyServe's on-demand stand-ins for spot replicas that are not ready; null when not set.</summary>
    public bool? DynamicOndemandFallback { get; init; }

    /// <summary>Ours: scale up when the replicas' time-to-first-token p50 exceeds this.</summary>
    public int TtftP50ThresholdMs { get; init; } = 500;

    /// <summary>Ours: scale up at once, ignoring the upscale delay, when a replica's queue is deeper than this.</summary>
    public int QueueDepthEmergency { get; init; } = 100;

    /// <summary>Ours: the sliding window the request rate is measured over (SkyServe fixes it at 60 s).</summary>
    public int QpsWindowSeconds { get; init; } = 60;

    /// <summary>The upper bound in force: <see cref="MaxReplicas"/>, or <see cref="MinReplicas"/> when it is not set.</summary>
    public int EffectiveMaxReplicas => MaxReplicas ?? MinReplicas;
}
