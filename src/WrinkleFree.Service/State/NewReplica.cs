namespace WrinkleFree.Service.State;

/// <summary>What the controller knows about a replica before launching it; the store assigns its id.</summary>
public sealed record NewReplica
{
    public required string Service { get; init; }

    public required int Version { get; init; }

    public required string Tier { get; init; }

    public required string Provider { get; init; }

    /// <summary>The SkyServe replica status name (PENDING, PROVISIONING...).</summary>
    public required string Status { get; init; }

    public double CostPerHour { get; init; }
}
