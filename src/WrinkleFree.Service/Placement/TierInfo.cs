namespace WrinkleFree.Service.Placement;

/// <summary>A capacity tier replicas can be placed on (bare metal, Kubernetes, cloud spot), as the planner sees it.</summary>
public sealed record TierInfo
{
    /// <summary>The tier's unique name from the spec.</summary>
    public required string Name { get; init; }

    /// <summary>Most replicas the tier holds at once; null means unlimited.</summary>
    public int? Capacity { get; init; }

    /// <summary>Marginal cost of one replica-hour; 0 for capacity already paid for (fixed-price bare metal).</summary>
    public double CostPerHour { get; init; }

    /// <summary>True for preemptible capacity.</summary>
    public bool Spot { get; init; }

    /// <summary>True when the tier should empty whenever cheaper tiers can carry the load.</summary>
    public bool ScaleToZero { get; init; }

    /// <summary>
    /// True when a launch can be refused for lack of capacity (a cloud tier, spot or not): its launches that keep failing
    /// to provision cool the tier down like a spot zone out of capacity, instead of being retried every tick.
    /// </summary>
    public bool CapacityLimited { get; init; }

    /// <summary>Position in the spec's tiers list; breaks cost ties.</summary>
    public int Order { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public TierInfo Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
            throw new ArgumentException("tier name must not be empty", nameof(Name));
        if (Capacity is < 0)
            throw new ArgumentException($"tier '{Name}': capacity must be >= 0, got {Capacity}", nameof(Capacity));
        if (!(CostPerHour >= 0 && double.IsFinite(CostPerHour)))
            throw new ArgumentException($"tier '{Name}': cost_per_hour must be a finite number >= 0, got {CostPerHour}", nameof(CostPerHour));
        return this;
    }
}
