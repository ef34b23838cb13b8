using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Placement;

namespace WrinkleFree.Service.Tests.Placement;

public sealed class SpotPlacementTests
{
    // Two equal-cost spot zones cheaper than any on-demand capacity beyond a small Kubernetes tier.
    private static readonly TierInfo Kube = new() { Name = "kube", Capacity = 2, CostPerHour = 0.08, Order = 0 };
    private static readonly TierInfo OnDemand = new() { Name = "od", CostPerHour = 0.40, Order = 1 };
    private static readonly TierInfo CheapOnDemand = new() { Name = "od-cheap", Capacity = 1, CostPerHour = 0.30, Order = 2 };
    private static readonly TierInfo SpotA = new() { Name = "spot-a", CostPerHour = 0.12, Spot = true, ScaleToZero = true, Order = 3 };
    private static readonly TierInfo SpotB = new() { Name = "spot-b", CostPerHour = 0.12, Spot = true, ScaleToZero = true, Order = 4 };
    private static readonly TierInfo[] Tiers = [Kube, OnDemand, CheapOnDemand, SpotA, SpotB];

    private static PlacementPlanner Planner(SpotPolicy? spot = null, int max = 100) => new(Tiers, max, spot);

    [Fact]
    public void Plan_NoFallbackKeys_SpotFilledByCostOrderAndSpreadAcrossEqualCostZones()
    {
        var plan = Planner().Plan([], 6, 1);

        Assert.Equal(2, plan.Launch.Count(t => t == "kube"));
        Assert.Equal(2, plan.Launch.Count(t => t == "spot-a"));
        Assert.Equal(2, plan.Launch.Count(t => t == "spot-b"));
    }

    [Fact]
    public void Plan_BaseOnDemand_KeepsThatManyOnNonSpotTiersCheapestFirst()
    {
        var plan = Planner(new SpotPolicy { BaseOnDemandReplicas = 3 }).Plan([], 6, 1);

        // kube (2) and the cheaper on-demand tier (1) hold the base; the rest is spot, not the $0.40 tier.
        Assert.Equal(2, plan.Launch.Count(t => t == "kube"));
        Assert.Equal(1, plan.Launch.Count(t => t == "od-cheap"));
        Assert.Equal(0, plan.Launch.Count(t => t == "od"));
        Assert.Equal(3, plan.Launch.Count(t => t.StartsWith("spot", StringComparison.Ordinal)));
    }

    [Fact]
    public void Plan_BaseOnDemand_ScaleDownKeepsTheBaseAndRemovesSpot()
    {
        var cluster = new TestCluster().Add("kube", 2).Add("od-cheap", 1).Add("od", 1).Add("spot-a", 3);

        var plan = Planner(new SpotPolicy { BaseOnDemandReplicas = 4 }).Plan(cluster.Replicas, 5, 1);

        // Cost order alone would remove the $0.40 replica; the base keeps four on non-spot tiers.
        Assert.Empty(plan.Launch);
        Assert.Equal(2, plan.Terminate.Count);
        Assert.All(plan.Terminate, id => Assert.Equal("spot-a", cluster.Get(id).Tier));
    }

    [Fact]
    public void Plan_DynamicFallback_PreemptedSpotGetsStandInsThatLeaveMostExpensiveFirstOnceSpotIsReady()
    {
        var planner = Planner(new SpotPolicy { DynamicOnDemandFallback = true });
        var cluster = new TestCluster().Add("kube", 2).Add("spot-a", 2).Add("spot-b", 2);
        Assert.True(planner.Plan(cluster.Replicas, 6, 1).IsEmpty);

        Preempt(cluster, "spot-a");
        var fallback = planner.Plan(cluster.Replicas, 6, 1);

        // The two preempted replicas are cleaned up and replaced on spot (in the zone with room, spreading again), and
        // two on-demand stand-ins start meanwhile, the cheaper on-demand tier first.
        Assert.Equal(2, fallback.Terminate.Count);
        Assert.Equal(["spot-a", "spot-a", "od-cheap", "od"], fallback.Launch);
        cluster.Apply(fallback);

        // The stand-ins become ready first; they stay while the spot replacements are still starting.
        Promote(cluster, "od-cheap", "od");
        Assert.True(planner.Plan(cluster.Replicas, 6, 1).IsEmpty);

        // One spot replacement is ready: one stand-in leaves, the most expensive.
        Promote(cluster, "spot-a", count: 1);
        var first = planner.Plan(cluster.Replicas, 6, 1);
        Assert.Empty(first.Launch);
        Assert.Equal("od", cluster.Get(Assert.Single(first.Terminate)).Tier);
        cluster.Apply(first);

        Promote(cluster, "spot-a");
        var second = planner.Plan(cluster.Replicas, 6, 1);
        Assert.Equal("od-cheap", cluster.Get(Assert.Single(second.Terminate)).Tier);
        cluster.Apply(second);
        Assert.True(planner.Plan(cluster.Replicas, 6, 1).IsEmpty);
        Assert.Equal(0, cluster.Count("od") + cluster.Count("od-cheap"));
    }

    [Fact]
    public void Plan_DynamicFallbackOff_PreemptedSpotIsOnlyReplacedOnSpot()
    {
        var cluster = new TestCluster().Add("kube", 2).Add("spot-a", 2).Add("spot-b", 2);
        Preempt(cluster, "spot-a");

        var plan = Planner(new SpotPolicy { BaseOnDemandReplicas = 2 }).Plan(cluster.Replicas, 6, 1);

        Assert.Equal(["spot-a", "spot-a"], plan.Launch);
    }

    [Fact]
    public void Plan_Overprovision_SparesAbsorbALossBeforeStandInsAreLaunched()
    {
        var cluster = new TestCluster().Add("kube", 2).Add("spot-a", 3).Add("spot-b", 3);
        Preempt(cluster, "spot-a", count: 2);
        var withSpares = Planner(new SpotPolicy { DynamicOnDemandFallback = true, Overprovision = 2 });
        var without = Planner(new SpotPolicy { DynamicOnDemandFallback = true });

        // Target 8 = 6 wanted + 2 spares: losing two spot replicas is what the spares are for.
        Assert.Equal(["spot-a", "spot-a"], withSpares.Plan(cluster.Replicas, 8, 1).Launch);
        Assert.Equal(["spot-a", "spot-a", "od-cheap", "od"], without.Plan(cluster.Replicas, 8, 1).Launch);

        // A third loss is beyond the spares: one stand-in.
        Preempt(cluster, "spot-b", count: 1);
        var plan = withSpares.Plan(cluster.Replicas, 8, 1);
        Assert.Equal(["od-cheap"], plan.Launch.Where(t => t.StartsWith("od", StringComparison.Ordinal)));
    }

    [Fact]
    public void Plan_SpotTierUnavailable_LaunchesInTheOtherZoneAndStandInsCoverTheRest()
    {
        var cluster = new TestCluster().Add("kube", 2);
        var planner = Planner(new SpotPolicy { DynamicOnDemandFallback = true });

        var oneZone = planner.Plan(cluster.Replicas, 6, 1, new HashSet<string> { "spot-a" });
        Assert.Equal(["spot-b", "spot-b", "spot-b", "spot-b", "od-cheap", "od", "od", "od"], oneZone.Launch);

        // With every spot zone out, the layout itself moves to on-demand: no spot launch, no stand-ins on top.
        var none = planner.Plan(cluster.Replicas, 6, 1, new HashSet<string> { "spot-a", "spot-b" });
        Assert.Equal(["od-cheap", "od", "od", "od"], none.Launch);
    }

    [Fact]
    public void Plan_LoadFalls_StandInsAndSpotLeaveMostExpensiveFirst()
    {
        var cluster = new TestCluster().Add("kube", 2).Add("spot-a", 2).Add("spot-b", 2).Add("od", 1).Add("od-cheap", 1);
        var planner = Planner(new SpotPolicy { DynamicOnDemandFallback = true, BaseOnDemandReplicas = 2 });

        var plan = planner.Plan(cluster.Replicas, 3, 1);

        // Three wanted: the base on kube (2) and one spot; both on-demand cloud replicas go before any spot one.
        var gone = plan.Terminate.Select(id => cluster.Get(id).Tier).ToList();
        Assert.Equal(5, gone.Count);
        Assert.Contains("od", gone);
        Assert.Contains("od-cheap", gone);
        Assert.Equal(3, gone.Count(t => t.StartsWith("spot", StringComparison.Ordinal)));
    }

    [Fact]
    public void Decide_SpotZoneFailsToProvisionTwiceInARow_NextZoneUsedUntilTheCooldownEnds()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
        var policy = new AutoscalerPolicy { MinReplicas = 4, MaxReplicas = 4 };
        var tiers = new TierInfo[] { SpotA with { CostPerHour = 0.10 }, SpotB, OnDemand };
        var core = new ControllerDecisionCore(new RequestRateAutoscaler(policy, time), new PlacementPlanner(tiers, 4), time)
        {
            CapacityCooldown = TimeSpan.FromMinutes(10),
        };
        var cluster = new TestCluster().Add("spot-a", 2);
        Launch(cluster, core.Decide(cluster.Replicas, [], 1).Plan);

        // One failure while the other launch came up: the odd failure, not an outage.
        SetStatus(cluster, ReplicaStatus.Provisioning, ReplicaStatus.FailedProvision, 1);
        SetStatus(cluster, ReplicaStatus.Provisioning, ReplicaStatus.Starting, 1);
        var once = core.Decide(cluster.Replicas, [], 1);
        Assert.Equal(["spot-a"], once.Plan.Launch);
        Assert.Empty(core.UnavailableTiers);
        Launch(cluster, once.Plan);

        // Two in a row with nothing provisioned between them: the zone is out of capacity.
        SetStatus(cluster, ReplicaStatus.Starting, ReplicaStatus.Ready, int.MaxValue);
        SetStatus(cluster, ReplicaStatus.Provisioning, ReplicaStatus.FailedProvision, int.MaxValue);
        time.Advance(TimeSpan.FromSeconds(20));
        var second = core.Decide(cluster.Replicas, [], 1);
        Assert.Equal(["spot-a"], second.Plan.Launch);
        Assert.Empty(core.UnavailableTiers);
        Launch(cluster, second.Plan);
        SetStatus(cluster, ReplicaStatus.Provisioning, ReplicaStatus.FailedProvision, int.MaxValue);
        time.Advance(TimeSpan.FromSeconds(20));
        var failed = core.Decide(cluster.Replicas, [], 1);
        Assert.Equal(["spot-b"], failed.Plan.Launch);
        Assert.Equal(["spot-a"], core.UnavailableTiers);
        cluster.Apply(failed.Plan);
        cluster.PromoteStarting();

        // Another replica lost in the cheaper zone is still replaced in the other one while the cooldown runs.
        Preempt(cluster, "spot-a", count: 1);
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(["spot-b"], core.Decide(cluster.Replicas, [], 1).Plan.Launch);

        // After the cooldown the cheaper zone is tried again.
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(["spot-a"], core.Decide(cluster.Replicas, [], 1).Plan.Launch);
        Assert.Empty(core.UnavailableTiers);
    }

    [Fact]
    public void Decide_OnDemandCloudTierOutOfCapacity_CoolsDownAndTheNextTierTakesTheLaunches_AKubeTierNever()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
        var policy = new AutoscalerPolicy { MinReplicas = 2, MaxReplicas = 2 };
        var cloud = new TierInfo { Name = "aws-od", CostPerHour = 0.30, CapacityLimited = true, Order = 0 };
        var dearer = new TierInfo { Name = "gcp-od", CostPerHour = 0.40, CapacityLimited = true, Order = 1 };
        var core = new ControllerDecisionCore(new RequestRateAutoscaler(policy, time), new PlacementPlanner([cloud, dearer], 2), time)
        {
            CapacityCooldown = TimeSpan.FromMinutes(10),
        };
        var cluster = new TestCluster();
        var first = core.Decide(cluster.Replicas, [], 1);
        Assert.Equal(["aws-od", "aws-od"], first.Plan.Launch);
        Launch(cluster, first.Plan);

        // Both launches refused (InsufficientInstanceCapacity): the cheaper tier is not tried again on every tick.
        SetStatus(cluster, ReplicaStatus.Provisioning, ReplicaStatus.FailedProvision, int.MaxValue);
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(["gcp-od", "gcp-od"], core.Decide(cluster.Replicas, [], 1).Plan.Launch);
        Assert.Equal(["aws-od"], core.UnavailableTiers);
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(["aws-od", "aws-od"], core.Decide(cluster.Replicas, [], 1).Plan.Launch);

        // A tier that is not capacity-limited (Kubernetes, bare metal) gets no cooldown: its failures are the crash guard's.
        var kubeCore = new ControllerDecisionCore(new RequestRateAutoscaler(policy, time), new PlacementPlanner([Kube with { Capacity = null }, dearer], 2), time);
        var kubeCluster = new TestCluster();
        Launch(kubeCluster, kubeCore.Decide(kubeCluster.Replicas, [], 1).Plan);
        SetStatus(kubeCluster, ReplicaStatus.Provisioning, ReplicaStatus.FailedProvision, int.MaxValue);
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(["kube", "kube"], kubeCore.Decide(kubeCluster.Replicas, [], 1).Plan.Launch);
        Assert.Empty(kubeCore.UnavailableTiers);
    }

    /// <summary>Applies <paramref name="plan"/> with its launches still provisioning (TestCluster starts them).</summary>
    private static void Launch(TestCluster cluster, PlacementPlan plan)
    {
        cluster.Apply(plan);
        for (var i = cluster.Replicas.Count - plan.Launch.Count; i < cluster.Replicas.Count; i++)
            cluster.Replicas[i] = cluster.Replicas[i] with { Status = ReplicaStatus.Provisioning };
    }

    private static void SetStatus(TestCluster cluster, ReplicaStatus from, ReplicaStatus to, int count)
    {
        for (var i = 0; i < cluster.Replicas.Count && count > 0; i++)
        {
            if (cluster.Replicas[i].Status == from)
            {
                cluster.Replicas[i] = cluster.Replicas[i] with { Status = to };
                count--;
            }
        }
    }

    [Fact]
    public void Plan_DynamicFallbackDuringUpdate_OldReadySpotCountsAndTheUpdateConverges()
    {
        var planner = Planner(new SpotPolicy { DynamicOnDemandFallback = true });
        var cluster = new TestCluster().Add("kube", 2).Add("spot-a", 2).Add("spot-b", 2);

        var first = planner.Plan(cluster.Replicas, 6, 2);

        // The old spot replicas still serve: the new ones start beside them with no on-demand stand-ins. Kubernetes is full
        // of old replicas, so its two new ones start on the cheapest on-demand tiers meanwhile.
        Assert.Equal(4, first.Launch.Count(t => t.StartsWith("spot", StringComparison.Ordinal)));
        Assert.Equal(["od-cheap", "od"], first.Launch.Where(t => t.StartsWith("od", StringComparison.Ordinal)));
        cluster.Apply(first);
        cluster.PromoteStarting();
        var steps = 0;
        for (var plan = planner.Plan(cluster.Replicas, 6, 2); !plan.IsEmpty && steps < 10; plan = planner.Plan(cluster.Replicas, 6, 2), steps++)
        {
            Assert.True(cluster.Ready >= 6, $"step {steps}: {cluster.Ready} ready");
            cluster.Apply(plan);
            cluster.PromoteStarting();
        }

        // Once the old Kubernetes replicas are gone their slots are refilled and the on-demand ones leave.
        Assert.True(steps < 10, "the update did not settle");
        Assert.All(cluster.Replicas, r => Assert.Equal(2, r.Version));
        Assert.Equal(6, cluster.Ready);
        Assert.Equal(2, cluster.Count("kube"));
        Assert.Equal(0, cluster.Count("od") + cluster.Count("od-cheap"));
    }

    [Fact]
    public void ToPlanner_ReplicaPolicyFallbackKeys_BecomeThePlannersSpotPolicy()
    {
        var spec = WrinkleFree.Service.Spec.ServiceSpecParser.Parse("""
            service:
              readiness_probe: /health
              replica_policy:
                min_replicas: 2
                max_replicas: 8
                target_qps_per_replica: 1
                num_overprovision: 2
                base_ondemand_fallback_replicas: 1
                dynamic_ondemand_fallback: true
            run: echo
            tiers:
              - {name: od, provider: local, cost_per_hour: 0.4}
              - {name: spot, provider: local, cost_per_hour: 0.1, spot: true}
            """);

        var planner = SpecMapping.ToPlanner(spec);

        Assert.Equal(new SpotPolicy { BaseOnDemandReplicas = 1, DynamicOnDemandFallback = true, Overprovision = 2 }, planner.Spot);
        // One on-demand base replica, three spot; none of the spot ones is ready yet, two of them are covered by the
        // spares, the third by an on-demand stand-in.
        Assert.Equal(["spot", "spot", "spot", "od", "od"], planner.Plan([], 4, 1).Launch);
    }

    private static void Preempt(TestCluster cluster, string tier, int count = int.MaxValue)
    {
        for (var i = 0; i < cluster.Replicas.Count && count > 0; i++)
        {
            if (cluster.Replicas[i].Tier == tier && cluster.Replicas[i].Status == ReplicaStatus.Ready)
            {
                cluster.Replicas[i] = cluster.Replicas[i] with { Status = ReplicaStatus.Preempted };
                count--;
            }
        }
    }

    private static void Promote(TestCluster cluster, params string[] tiers) => Promote(cluster, tiers, int.MaxValue);

    private static void Promote(TestCluster cluster, string tier, int count) => Promote(cluster, [tier], count);

    private static void Promote(TestCluster cluster, string[] tiers, int count)
    {
        for (var i = 0; i < cluster.Replicas.Count && count > 0; i++)
        {
            if (tiers.Contains(cluster.Replicas[i].Tier) && cluster.Replicas[i].Status == ReplicaStatus.Starting)
            {
                cluster.Replicas[i] = cluster.Replicas[i] with { Status = ReplicaStatus.Ready };
                count--;
            }
        }
    }
}
