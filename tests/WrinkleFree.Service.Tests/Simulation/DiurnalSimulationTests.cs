using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.Placement;
using Xunit.Abstractions;

namespace WrinkleFree.Service.Tests.Simulation;

public sealed class DiurnalSimulationTests(ITestOutputHelper output)
{
    // Declared as the design draws them: bare metal, Kubernetes, then AWS spot before the cheaper GCP spot.
    private static readonly TierInfo[] Tiers =
    [
        new() { Name = "metal", Capacity = 50, CostPerHour = 0, Order = 0 },
        new() { Name = "kube", Capacity = 500, CostPerHour = 0.08, Order = 1 },
        new() { Name = "aws-spot", CostPerHour = 0.15, Spot = true, ScaleToZero = true, Order = 2 },
        new() { Name = "gcp-spot", Capacity = 1500, CostPerHour = 0.12, Spot = true, ScaleToZero = true, Order = 3 },
    ];

    private static readonly AutoscalerPolicy Policy = new()
    {
        MinReplicas = 20,
        MaxReplicas = 3200,
        TargetQpsPerReplica = 5,
        UpscaleDelay = TimeSpan.FromSeconds(60),
        DownscaleDelay = TimeSpan.FromSeconds(600),
    };

    [Fact]
    public void Run_DayOfDiurnalTrafficWithBursts_InvariantsHoldAndCostBelowNaivePolicy()
    {
        var trace = new DiurnalTrace(seed: 7, troughQps: 300, peakQps: 14_000);
        var sim = new FleetSimulation(Tiers, Policy, trace, seed: 11);

        var ours = sim.Run(() => new PlacementPlanner(Tiers, Policy.MaxReplicas), TimeSpan.FromHours(24), checkInvariants: true);
        var naive = sim.Run(() => new NaiveSkyServePlanner(Tiers, Policy.MaxReplicas), TimeSpan.FromHours(24), checkInvariants: false);

        Report("cost-ordered", ours);
        Report("naive", naive);
        Assert.Empty(ours.Violations);
        Assert.True(ours.Ticks >= 4000, $"only {ours.Ticks} decisions");
        Assert.InRange(ours.PeakLive, 2500, Policy.MaxReplicas);
        Assert.Equal(Policy.MaxReplicas, ours.PeakLive);
        Assert.True(ours.Failures > 100, $"only {ours.Failures} failures were injected");
        Assert.True(ours.MinReadyAfterWarmup >= 1, "a moment without a ready replica");
        // At the night trough the base tiers (50 + 500) carry the load: the scale-to-zero spot tiers empty.
        Assert.Equal(0, ours.MinScaleToZeroLive);
        Assert.True(ours.CostDollars < naive.CostDollars, $"cost ${ours.CostDollars:F2} not below naive ${naive.CostDollars:F2}");
    }

    [Fact]
    public void Run_RollingUpdateAtRisingLoad_AlwaysReadyWithinMaxAndConverges()
    {
        var trace = new DiurnalTrace(seed: 7, troughQps: 300, peakQps: 14_000);
        var sim = new FleetSimulation(Tiers, Policy, trace, seed: 13);

        var run = sim.Run(() => new PlacementPlanner(Tiers, Policy.MaxReplicas), TimeSpan.FromHours(14), checkInvariants: true,
            rollOutAt: TimeSpan.FromHours(10));

        Report("rolling update at 10:00", run);
        Assert.Empty(run.Violations);
        Assert.True(run.MinReadyAfterWarmup >= 1, "a moment without a ready replica");
        Assert.Equal(0, run.OldVersionLiveAtEnd);
    }

    private void Report(string name, SimulationResult r)
    {
        var hours = string.Join(", ", r.ReplicaHoursByTier.Select(kv => $"{kv.Key} {kv.Value:F0}"));
        output.WriteLine($"{name}: ${r.CostDollars:F2}, {r.Ticks} ticks, peak {r.PeakLive} live, {r.Launched} launched, " +
            $"{r.Failures} failed/preempted, min ready {r.MinReadyAfterWarmup}, min spot live {r.MinScaleToZeroLive}, old version at end {r.OldVersionLiveAtEnd}; replica-hours: {hours}");
        foreach (var v in r.Violations)
            output.WriteLine("  " + v);
    }
}
