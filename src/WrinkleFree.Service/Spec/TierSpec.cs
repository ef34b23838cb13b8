namespace WrinkleFree.Service.Spec;

/// <summary>
/// One entry of our <c>tiers:</c> list: a pool of capacity with a price. New replicas go to the cheapest tier with room; scale-
/// down leaves the most expensive tier first.
/// </summary>
public sealed record TierSpec
{
    /// <summary>The <see cref="Capacity"/> of a tier without a limit (written <c>unlimited</c>).</summary>
    public const int UnlimitedCapacity = int.MaxValue;

    /// <summary>The tier used when a spec declares none: this machine, unlimited, free.</summary>
    public static TierSpec DefaultLocal { get; } = new() { Name = "local", Provider = TierProvider.Local };

    /// <summary>Unique name of the tier within the service.</summary>
    public required string Name { get; init; }

    /// <summary>Where the tier's replicas run.</summary>
    public required TierProvider Provider { get; init; }

    /// <summary>Most replicas this tier holds; <see cref="UnlimitedCapacity"/> for no limit.</summary>
    public int Capacity { get; init; } = UnlimitedCapacity;

    /// <summary>Price of one replica-hour in dollars (0 for already-paid capacity).</summary>
    public double CostPerHour { get; init; }

    /// <summary>Whether replicas here can be preempted.</summary>
    public bool Spot { get; init; }

    /// <summary>Whether the tier drops to zero replicas when cheaper tiers carry the load.</summary>
    public bool ScaleToZero { get; init; }

    /// <summary>Provider-specific settings (SSH pool, namespace, instance type...), kept as parsed YAML values.</summary>
    public IReadOnlyDictionary<string, object?> Settings { get; init; } = new Dictionary<string, object?>();

    /// <summary>Whether <see cref="Capacity"/> is unlimited.</summary>
    public bool IsUnlimited => Capacity == UnlimitedCapacity;

    /// <inheritdoc />
    public bool Equals(TierSpec? other) =>
        other is not null
        && Name == other.Name && Provider == other.Provider && Capacity == other.Capacity
        && CostPerHour.Equals(other.CostPerHour) && Spot == other.Spot && ScaleToZero == other.ScaleToZero
        && SpecEquality.Maps(Settings, other.Settings);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Provider, Capacity, CostPerHour, Spot, ScaleToZero);
}
