namespace WrinkleFree.Service.Tests.Simulation;

/// <summary>What one simulated day produced.</summary>
internal sealed record SimulationResult(
    double CostDollars,
    int Ticks,
    int PeakLive,
    int Launched,
    int Failures,
    int MinReadyAfterWarmup,
    int MinScaleToZeroLive,
    int OldVersionLiveAtEnd,
    IReadOnlyList<string> Violations,
    IReadOnlyDictionary<string, double> ReplicaHoursByTier)
{
    /// <summary>Spot replicas the market reclaimed.</summary>
    public int Preemptions { get; init; }

    /// <summary>Share of the seconds after the first hour in which the ready replicas met the latency target for the demand.</summary>
    public double Availability { get; init; }

    /// <summary>Seconds per hour of the day in which the latency target was missed (the first hour is not measured).</summary>
    public IReadOnlyList<int> MissedSecondsByHour { get; init; } = [];

    /// <summary>Tokens of the requests served (requests beyond the ready replicas' saturation are dropped).</summary>
    public double TokensServed { get; init; }

    /// <summary>Dollars per million tokens served.</summary>
    public double DollarsPerMillionTokens => TokensServed <= 0 ? double.PositiveInfinity : CostDollars / TokensServed * 1e6;
}
