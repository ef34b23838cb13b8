using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Placement;

namespace WrinkleFree.Service.Tests.Placement;

public sealed class PlacementPlannerTests
{
    private static readonly TierInfo Metal = new() { Name = "metal", Capacity = 3, CostPerHour = 0, Order = 0 };
    private static readonly TierInfo Kube = new() { Name = "kube", Capacity = 10, CostPerHour = 0.08, Order = 1 };
    private static readonly TierInfo Spot = new() { Name = "spot", CostPerHour = 0.15, Spot = true, ScaleToZero = true, Order = 2 };

    private static PlacementPlanner Planner(int max = 100) => new([Metal, Kube, Spot], max);

    [Fact]
    public void Plan_ScaleUpFromEmpty_FillsCheapestTierThenSpillsAtCapacity()
    {
        var plan = Planner().Plan([], 15, 1);

        Assert.Equal(3, plan.Launch.Count(t => t == "metal"));
        Assert.Equal(10, plan.Launch.Count(t => t == "kube"));
        Assert.Equal(2, plan.Launch.Count(t => t == "spot"));
        Assert.Empty(plan.Terminate);
    }

    [Fact]
    public void Plan_FreeTierDeclaredLast_StillFilledBeforePaidTiers()
    {
        var cloud = new TierInfo { Name = "cloud", CostPerHour = 0.12, Order = 0 };
        var k8s = new TierInfo { Name = "k8s", Capacity = 2, CostPerHour = 0, Order = 1 };
        var plan = new PlacementPlanner([cloud, k8s], 10).Plan([], 3, 1);

        Assert.Equal(["k8s", "k8s", "cloud"], plan.Launch);
    }

    [Fact]
    public void Plan_EqualCost_DeclaredOrderBreaksTie()
    {
        var b = new TierInfo { Name = "b", Capacity = 1, CostPerHour = 0.1, Order = 0 };
        var a = new TierInfo { Name = "a", Capacity = 1, CostPerHour = 0.1, Order = 1 };
        var plan = new PlacementPlanner([a, b], 10).Plan([], 2, 1);

        Assert.Equal(["b", "a"], plan.Launch);
    }

    [Fact]
    public void Plan_PartlyFilledTiers_LaunchesOnlyTheShortfallIntoFreeCapacity()
    {
        var cluster = new TestCluster().Add("metal", 2).Add("kube", 10);

        var plan = Planner().Plan(cluster.Replicas, 14, 1);

        Assert.Equal(["metal", "spot"], plan.Launch);
    }

    [Fact]
    public void Plan_ScaleDown_RemovesMostExpensiveTierNewestFirst()
    {
        var cluster = new TestCluster().Add("metal", 3).Add("spot", 2).Add("kube", 4).Add("spot", 1);
        var spot = cluster.Replicas.Where(r => r.Tier == "spot").OrderByDescending(r => r.LaunchedAt).Select(r => r.Id).ToList();
        var planner = Planner();

        var plan = planner.Plan(cluster.Replicas, 7, 1);
        Assert.Equal(spot, plan.Terminate);
        Assert.Empty(plan.Launch);
        cluster.Apply(plan);

        var kube = cluster.Replicas.Where(r => r.Tier == "kube").OrderByDescending(r => r.LaunchedAt).Select(r => r.Id).ToList();
        var further = planner.Plan(cluster.Replicas, 5, 1);
        Assert.Equal(kube.Take(2), further.Terminate);
    }

    [Fact]
    public void Plan_ScaleDown_NotReadyReplicasGoFirstLeastAdvancedFirst()
    {
        var cluster = new TestCluster().Add("spot", 2)
            .Add("metal", 1, ReplicaStatus.NotReady)
            .Add("kube", 1, ReplicaStatus.Starting)
            .Add("kube", 1, ReplicaStatus.Provisioning);
        var notReady = cluster.Replicas.Single(r => r.Status == ReplicaStatus.NotReady).Id;
        var starting = cluster.Replicas.Single(r => r.Status == ReplicaStatus.Starting).Id;
        var provisioning = cluster.Replicas.Single(r => r.Status == ReplicaStatus.Provisioning).Id;

        var plan = Planner().Plan(cluster.Replicas, 2, 1);

        Assert.Equal([provisioning, starting, notReady], plan.Terminate);
    }

    [Fact]
    public void Plan_ProvisioningReplicasFillMax_LaunchesNothing()
    {
        var cluster = new TestCluster().Add("metal", 2).Add("kube", 2, ReplicaStatus.Provisioning).Add("kube", 1, ReplicaStatus.Pending);

        var plan = Planner(max: 5).Plan(cluster.Replicas, 9, 1);

        Assert.True(plan.IsEmpty);
    }

    [Fact]
    public void Plan_TargetAboveMax_LaunchesOnlyUpToMax()
    {
        var cluster = new TestCluster().Add("metal", 3).Add("kube", 1, ReplicaStatus.ShuttingDown);

        var plan = Planner(max: 6).Plan(cluster.Replicas, 50, 1);

        // Draining replicas do not count toward max but still hold their tier slot.
        Assert.Equal(["kube", "kube", "kube"], plan.Launch);
    }

    [Fact]
    public void Plan_FailedAndPreemptedReplicas_CleanedUpAndReplacedOnCheapestTier()
    {
        var cluster = new TestCluster().Add("metal", 2).Add("metal", 1, ReplicaStatus.FailedProbing).Add("spot", 1, ReplicaStatus.Preempted);
        var dead = cluster.Replicas.Where(r => r.Status.IsTerminal()).Select(r => r.Id).ToList();

        var plan = Planner().Plan(cluster.Replicas, 4, 1);

        Assert.Equal(dead, plan.Terminate);
        Assert.Equal(["metal", "kube"], plan.Launch);
    }

    [Fact]
    public void Plan_ScaleToZeroTierWhileCheaperHasRoom_MigratesThenDropsExpensiveOnceReady()
    {
        var cluster = new TestCluster().Add("metal", 2).Add("kube", 10).Add("spot", 2);
        var planner = Planner();

        var migrate = planner.Plan(cluster.Replicas, 14, 1);
        Assert.Equal(["metal"], migrate.Launch);
        Assert.Empty(migrate.Terminate);
        cluster.Apply(migrate);

        // The replacement is starting: nothing is taken away yet, and it is not mistaken for surplus.
        Assert.True(planner.Plan(cluster.Replicas, 14, 1).IsEmpty);

        cluster.PromoteStarting();
        var drop = planner.Plan(cluster.Replicas, 14, 1);
        Assert.Single(drop.Terminate);
        Assert.Equal("spot", cluster.Get(drop.Terminate[0]).Tier);
        cluster.Apply(drop);
        Assert.True(planner.Plan(cluster.Replicas, 14, 1).IsEmpty);
        Assert.Equal(3, cluster.Count("metal"));
    }

    [Fact]
    public void Plan_NonScaleToZeroTierWhileCheaperHasRoom_Stays()
    {
        var cluster = new TestCluster().Add("metal", 1).Add("kube", 3);

        Assert.True(Planner().Plan(cluster.Replicas, 4, 1).IsEmpty);
    }

    [Fact]
    public void Plan_MinReplicasOnBase_NeverTakenWhileExpensiveReplicasRemain()
    {
        var cluster = new TestCluster().Add("metal", 3).Add("kube", 10).Add("spot", 7);
        var planner = Planner();
        for (var target = 19; target >= 3; target--)
        {
            var plan = planner.Plan(cluster.Replicas, target, 1);
            cluster.Apply(plan);
            Assert.Equal(3, cluster.Count("metal"));
        }
        Assert.Equal(3, cluster.Replicas.Count);
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(3, 5)]
    [InlineData(1, 1)]
    [InlineData(12, 12)]
    public void Plan_RollingUpdate_NeverWithoutReadyReplicaAndEndsAllNewVersion(int target, int max)
    {
        var cluster = new TestCluster().Add("metal", Math.Min(3, target)).Add("kube", Math.Max(0, target - 3));
        var planner = Planner(max);
        for (var step = 0; step < 50; step++)
        {
            var plan = planner.Plan(cluster.Replicas, target, 2);
            cluster.Apply(plan);
            Assert.True(cluster.Ready >= 1, $"no ready replica after step {step}");
            // max is only exceeded by the single surge replica an update at max_replicas = 1 needs.
            Assert.True(cluster.Replicas.Count <= Math.Max(max, 2), $"{cluster.Replicas.Count} live replicas after step {step}");
            if (max > 1)
                Assert.True(cluster.Replicas.Count <= max);
            cluster.PromoteStarting();
        }
        Assert.Equal(target, cluster.Replicas.Count);
        Assert.All(cluster.Replicas, r => Assert.Equal(2, r.Version));
        Assert.All(cluster.Replicas, r => Assert.Equal(ReplicaStatus.Ready, r.Status));
    }

    [Fact]
    public void Plan_RollingUpdate_OldVersionKeptUntilNewOnesReady()
    {
        var cluster = new TestCluster().Add("metal", 2);
        var planner = Planner(max: 10);

        var first = planner.Plan(cluster.Replicas, 2, 2);
        Assert.Equal(2, first.Launch.Count);
        Assert.Empty(first.Terminate);
        cluster.Apply(first);
        Assert.True(planner.Plan(cluster.Replicas, 2, 2).IsEmpty);

        cluster.PromoteStarting();
        var retire = planner.Plan(cluster.Replicas, 2, 2);
        Assert.Equal(2, retire.Terminate.Count);
        Assert.All(retire.Terminate, id => Assert.Equal(1, cluster.Get(id).Version));
    }

    [Fact]
    public void Plan_ReplicaOnTierRemovedFromSpec_FirstToGoAndMovedOffWhenRoom()
    {
        var cluster = new TestCluster().Add("metal", 1).Add("spot", 1).Add("retired", 1).Add("kube", 1);
        var retired = cluster.Replicas.Single(r => r.Tier == "retired").Id;

        Assert.Equal([retired], Planner().Plan(cluster.Replicas, 3, 1).Terminate);
        var move = Planner().Plan(cluster.Replicas, 4, 1);
        Assert.Equal(["metal", "metal"], move.Launch);
    }

    [Fact]
    public void Plan_RollingUpdateWithOldReplicaStarting_KeepsItUntilNewOnesAreReady()
    {
        var cluster = new TestCluster().Add("metal", 2).Add("kube", 1, ReplicaStatus.Starting);
        var oldStarting = cluster.Replicas.Single(r => r.Status == ReplicaStatus.Starting).Id;
        var planner = Planner();

        var first = planner.Plan(cluster.Replicas, 3, 2);
        Assert.Empty(first.Terminate);
        Assert.Equal(3, first.Launch.Count);
        cluster.Apply(first);

        cluster.PromoteStarting();
        var retire = planner.Plan(cluster.Replicas, 3, 2);
        Assert.Equal(3, retire.Terminate.Count);
        Assert.Contains(oldStarting, retire.Terminate);
    }

    [Fact]
    public void Constructor_DuplicateTier_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PlacementPlanner([Metal, Metal], 3));
        Assert.Contains("metal", ex.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Plan_UpdateWithEveryTierFull_RollsInPlaceOneReplicaAtATime(int capacity)
    {
        var only = new TierInfo { Name = "machine", Capacity = capacity, CostPerHour = 0, Order = 0 };
        var planner = new PlacementPlanner([only], capacity + 5);
        var cluster = new TestCluster().Add("machine", capacity);

        for (var round = 0; round < capacity; round++)
        {
            // Stop one old replica; nothing can launch while it still holds its slot.
            var stop = planner.Plan(cluster.Replicas, capacity, 2);
            Assert.True(stop.InPlaceRoll);
            Assert.Empty(stop.Launch);
            Assert.Single(stop.Terminate);
            Assert.Equal(1, cluster.Get(stop.Terminate[0]).Version);
            // While it drains, nothing more happens: one replica short at most.
            var draining = cluster.Replicas.Select(r => r.Id == stop.Terminate[0] ? r with { Status = ReplicaStatus.ShuttingDown } : r).ToList();
            Assert.True(planner.Plan(draining, capacity, 2).IsEmpty);
            cluster.Apply(stop);

            // Its slot is free: the new version starts there; while it starts, no other old replica is stopped.
            var start = planner.Plan(cluster.Replicas, capacity, 2);
            Assert.Equal(["machine"], start.Launch);
            Assert.False(start.InPlaceRoll);
            cluster.Apply(start);
            Assert.True(planner.Plan(cluster.Replicas, capacity, 2).IsEmpty);
            cluster.PromoteStarting();
        }

        Assert.All(cluster.Replicas, r => Assert.Equal(2, r.Version));
        Assert.True(planner.Plan(cluster.Replicas, capacity, 2).IsEmpty);
    }

    [Fact]
    public void Plan_UpdateWithRoomOnAnotherTier_SurgesInsteadOfRollingInPlace()
    {
        var planner = new PlacementPlanner([new TierInfo { Name = "machine", Capacity = 1, Order = 0 }, new TierInfo { Name = "cloud", CostPerHour = 1, Order = 1 }], 5);
        var cluster = new TestCluster().Add("machine", 1);
        var plan = planner.Plan(cluster.Replicas, 1, 2);
        Assert.False(plan.InPlaceRoll);
        Assert.Equal(["cloud"], plan.Launch);
        Assert.Empty(plan.Terminate);
    }
}
