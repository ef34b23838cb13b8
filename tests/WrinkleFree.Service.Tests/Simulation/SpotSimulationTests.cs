using System.Globalization;
using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.Placement;
using Xunit.Abstractions;

namespace WrinkleFree.Service.Tests.Simulation;

public sealed class SpotSimulationTests(ITestOutputHelper output)
{
    // Bare metal and Kubernetes as in the diurnal test, then spot in three AWS and three GCP zones and on-demand in
    // both clouds, declared cloud by cloud as an operator would write them, not by price.
    private static readonly TierInfo[] Tiers =
    [
        new() { Name = "metal", Capacity = 50, CostPerHour = 0, Order = 0 },
        new() { Name = "kube", Capacity = 500, CostPerHour = 0.08, Order = 1 },
        Spot("aws-spot-a", 0.14, 2), Spot("aws-spot-b", 0.14, 3), Spot("aws-spot-c", 0.14, 4),
        Spot("gcp-spot-a", 0.11, 5), Spot("gcp-spot-b", 0.11, 6), Spot("gcp-spot-c", 0.11, 7),
        new() { Name = "aws-od", CostPerHour = 0.36, ScaleToZero = true, Order = 8 },
        new() { Name = "gcp-od", CostPerHour = 0.34, ScaleToZero = true, Order = 9 },
    ];

    private const int BaseOnDemand = 20;

    // The SkyServe-like and all-on-demand runs keep 100 spares. SkyServe-like leaves bare metal and Kubernetes idle and
    // so has them for its stand-ins (ready in 50 s); ours runs base load there and its stand-ins start on cloud
    // on-demand (70-100 s), so at 100 spares it misses a tick more in some traffic bursts. Compared at the same
    // availability target, ours gets the spares that reach it, and pays for them.
    private const int Overprovision = 100;
    private const int OurOverprovision = 200;

    // The same replica_policy otherwise for all three: the same fallback keys; only placement differs.
    private static readonly AutoscalerPolicy Policy = new()
    {
        MinReplicas = 20,
        MaxReplicas = 3200,
        TargetQpsPerReplica = 5,
        UpscaleDelay = TimeSpan.FromSeconds(60),
        DownscaleDelay = TimeSpan.FromSeconds(600),
        NumOverprovision = Overprovision,
    };

    [Fact]
    public void Run_DayWithSpotPreemptionsAndOutages_OursCheaperPerTokenThanSkyServeAtNoWorseAvailability()
    {
        var trace = new DiurnalTrace(seed: 7, troughQps: 300, peakQps: 14_000);
        // GCP spot is reclaimed more often than AWS spot; every zone has its bursts, most an outage.
        var market = new SpotMarket(
            [("aws-spot-a", 0.02), ("aws-spot-b", 0.03), ("aws-spot-c", 0.02), ("gcp-spot-a", 0.04), ("gcp-spot-b", 0.05), ("gcp-spot-c", 0.04)],
            seed: 5);
        var sim = new FleetSimulation(Tiers, Policy, trace, seed: 11, market);
        var onDemandTiers = Tiers.Where(t => !t.Spot).ToArray();
        var spot = new SpotPolicy { BaseOnDemandReplicas = BaseOnDemand, DynamicOnDemandFallback = true, Overprovision = OurOverprovision };

        var ourSim = new FleetSimulation(Tiers, Policy with { NumOverprovision = OurOverprovision }, trace, seed: 11, market);
        var ours = ourSim.Run(() => new PlacementPlanner(Tiers, Policy.MaxReplicas, spot), TimeSpan.FromHours(24), checkInvariants: true);
        var skyServe = sim.Run(() => new SkyServeSpotPlanner(Tiers, Policy.MaxReplicas, BaseOnDemand, dynamicFallback: true), TimeSpan.FromHours(24), checkInvariants: false);
        var onDemand = sim.Run(() => new PlacementPlanner(onDemandTiers, Policy.MaxReplicas), TimeSpan.FromHours(24), checkInvariants: false);

        foreach (var zone in market.Describe())
            output.WriteLine(zone);
        Report("ours", ours);
        Report("skyserve-like", skyServe);
        Report("all-on-demand", onDemand);
        var saving = 1 - ours.DollarsPerMillionTokens / skyServe.DollarsPerMillionTokens;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ours vs skyserve-like: {saving:P1} lower $/1M tokens; vs all-on-demand: {1 - ours.DollarsPerMillionTokens / onDemand.DollarsPerMillionTokens:P1}"));

        Assert.Empty(ours.Violations);
        Assert.True(ours.Preemptions > 500, $"only {ours.Preemptions} preemptions");
        Assert.True(ours.DollarsPerMillionTokens < skyServe.DollarsPerMillionTokens,
            $"ours ${ours.DollarsPerMillionTokens:F4}/1M tokens not below skyserve-like ${skyServe.DollarsPerMillionTokens:F4}");
        Assert.True(ours.Availability >= skyServe.Availability, $"availability {ours.Availability:P2} below skyserve-like {skyServe.Availability:P2}");
    }

    private static TierInfo Spot(string name, double cost, int order) =>
        new() { Name = name, CostPerHour = cost, Spot = true, ScaleToZero = true, Order = order };

    private void Report(string name, SimulationResult r)
    {
        var hours = string.Join(", ", r.ReplicaHoursByTier.Where(kv => kv.Value > 0).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:F0}")));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: ${r.CostDollars:F2}, {r.TokensServed / 1e9:F2}B tokens, ${r.DollarsPerMillionTokens:F4}/1M tokens, availability {r.Availability:P2}, " +
            $"{r.Preemptions} preempted, {r.Failures} failed in all, {r.Launched} launched, peak {r.PeakLive}; replica-hours: {hours}"));
        output.WriteLine("  missed seconds by hour: " + string.Join(" ", r.MissedSecondsByHour));
        foreach (var v in r.Violations)
            output.WriteLine("  " + v);
    }
}
