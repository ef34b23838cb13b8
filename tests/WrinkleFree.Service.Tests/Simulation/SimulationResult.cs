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
    IReadOnlyDictionary<string, double> ReplicaHoursByTier);
