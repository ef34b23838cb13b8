namespace WrinkleFree.Service.Spec;

/// <summary>One tier as a service will use it: its capacity after the provider, spot and resource checks, and why.</summary>
public sealed record TierPlan
{
    /// <summary>The tier's name.</summary>
    public required string Name { get; init; }

    /// <summary>The provider name (<c>local</c>, <c>ssh</c>, <c>kubernetes</c>, <c>cloud</c>).</summary>
    public required string Provider { get; init; }

    /// <summary>Capacity as the spec writes it (<see cref="TierSpec.UnlimitedCapacity"/> for unlimited).</summary>
    public required int WrittenCapacity { get; init; }

    /// <summary>Replicas the tier will hold (<see cref="TierSpec.UnlimitedCapacity"/> for unlimited).</summary>
    public required int Capacity { get; init; }

    /// <summary>Price of one replica-hour in dollars.</summary>
    public double CostPerHour { get; init; }

    /// <summary>Whether the tier's replicas can be preempted.</summary>
    public bool Spot { get; init; }

    /// <summary>Whether the tier drops to zero when cheaper tiers carry the load.</summary>
    public bool ScaleToZero { get; init; }

    /// <summary>Why <see cref="Capacity"/> differs from <see cref="WrittenCapacity"/> or was checked; null when nothing applied.</summary>
    public string? Note { get; init; }
}
