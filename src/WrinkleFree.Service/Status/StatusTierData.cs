namespace WrinkleFree.Service.Status;

/// <summary>One tier of a service as a band on the status page: how much of its capacity its replicas hold.</summary>
public sealed record StatusTierData
{
    public required string Name { get; init; }

    public required string Provider { get; init; }

    public double CostPerHour { get; init; }

    /// <summary>Most replicas the tier holds; null when unlimited.</summary>
    public int? Capacity { get; init; }

    /// <summary>Replicas holding a slot (live or draining).</summary>
    public int Used { get; init; }

    /// <summary>Replicas READY.</summary>
    public int Ready { get; init; }

    public bool Spot { get; init; }

    /// <summary>False for a tier some replica still runs on although the current spec no longer names it.</summary>
    public bool InSpec { get; init; } = true;
}
