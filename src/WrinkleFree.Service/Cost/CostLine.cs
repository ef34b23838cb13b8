namespace WrinkleFree.Service.Cost;

/// <summary>
/// What replicas cost and produced in a window: for one service on one tier, or summed over services (<see cref="Service"/>
/// null), tiers (<see cref="Tier"/> null) or both.
/// </summary>
public sealed record CostLine
{
    public string? Service { get; init; }

    public string? Tier { get; init; }

    /// <summary>The tier's provider (local, ssh, kubernetes, cloud); null on lines that sum several tiers.</summary>
    public string? Provider { get; init; }

    /// <summary>Replicas that held capacity at some point of the window.</summary>
    public int Replicas { get; init; }

    /// <summary>Hours replicas existed in the window, from launch (when capacity is taken and billing starts) to teardown.</summary>
    public double ReplicaHours { get; init; }

    /// <summary>Replica-hours times each replica's tier cost per hour.</summary>
    public double Dollars { get; init; }

    /// <summary>Tokens the replicas generated in the window, from their counters the controller scrapes.</summary>
    public long GeneratedTokens { get; init; }

    /// <summary>Prompt tokens the replicas processed in the window.</summary>
    public long PromptTokens { get; init; }

    /// <summary>Dollars per million generated tokens; null when nothing was generated.</summary>
    public double? DollarsPerMillionTokens => GeneratedTokens > 0 ? Dollars * 1_000_000 / GeneratedTokens : null;

    /// <summary>Adds two lines' numbers; names stay where both agree.</summary>
    public CostLine Plus(CostLine other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new CostLine
        {
            Service = Service == other.Service ? Service : null,
            Tier = Tier == other.Tier ? Tier : null,
            Provider = Provider == other.Provider ? Provider : null,
            Replicas = Replicas + other.Replicas,
            ReplicaHours = ReplicaHours + other.ReplicaHours,
            Dollars = Dollars + other.Dollars,
            GeneratedTokens = GeneratedTokens + other.GeneratedTokens,
            PromptTokens = PromptTokens + other.PromptTokens,
        };
    }
}
