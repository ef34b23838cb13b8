namespace WrinkleFree.Service.Placement;

/// <summary>
/// How spot and on-demand (non-spot) tiers share a target: SkyServe's <c>base_ondemand_fallback_replicas</c> and
/// <c>dynamic_ondemand_fallback</c>, with <c>num_overprovision</c> as the spot headroom that absorbs losses before any
/// on-demand stand-in is launched.
/// </summary>
public sealed record SpotPolicy
{
    /// <summary>Replicas always kept on non-spot tiers (the cheapest ones), whatever spot costs.</summary>
    public int BaseOnDemandReplicas { get; init; }

    /// <summary>When true, non-spot replicas stand in for spot replicas the layout wants but that are not ready.</summary>
    public bool DynamicOnDemandFallback { get; init; }

    /// <summary>
    /// The spare replicas the autoscaler adds to its target (num_overprovision): that many missing spot replicas are
    /// covered by the spares themselves, so only a larger loss brings on-demand stand-ins.
    /// </summary>
    public int Overprovision { get; init; }

    /// <summary>True when the policy changes placement (a base or dynamic fallback is asked for).</summary>
    public bool IsActive => BaseOnDemandReplicas > 0 || DynamicOnDemandFallback;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting; returns this for chaining.</summary>
    public SpotPolicy Validate()
    {
        if (BaseOnDemandReplicas < 0)
            throw new ArgumentException($"base_ondemand_fallback_replicas must be >= 0, got {BaseOnDemandReplicas}", nameof(BaseOnDemandReplicas));
        if (Overprovision < 0)
            throw new ArgumentException($"num_overprovision must be >= 0, got {Overprovision}", nameof(Overprovision));
        return this;
    }
}
