using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Placement;

namespace WrinkleFree.Service.Tests.Controller;

public sealed class ControllerDecisionCoreTests
{
    private static readonly TierInfo[] Tiers =
    [
        new() { Name = "cloud", CostPerHour = 0.2, ScaleToZero = true, Order = 0 },
        new() { Name = "metal", Capacity = 2, CostPerHour = 0, Order = 1 },
    ];

    [Fact]
    public void Decide_FirstRequestAtZero_LaunchesOnCheapestTierAndTicksFast()
    {
        var time = new FakeTimeProvider();
        var policy = new AutoscalerPolicy { MinReplicas = 0, MaxReplicas = 4, TargetQpsPerReplica = 1, UpscaleDelay = TimeSpan.FromMinutes(5) };
        var core = new ControllerDecisionCore(new RequestRateAutoscaler(policy, time), new PlacementPlanner(Tiers, policy.MaxReplicas));

        var idle = core.Decide([], [], 1);
        Assert.True(idle.Plan.IsEmpty);
        Assert.Equal(TimeSpan.FromSeconds(5), idle.NextTickIn);

        Assert.True(core.Autoscaler.RecordRequest());
        var wake = core.Decide([], [], 1);

        Assert.Equal(ScalingReason.ScaleFromZero, wake.Scaling.Reason);
        Assert.Equal(["metal"], wake.Plan.Launch);
        Assert.Equal(TimeSpan.FromSeconds(20), wake.NextTickIn);
    }

    [Fact]
    public void Decide_StartingReplicas_SuppressEmergencyForTheSameShortage()
    {
        var time = new FakeTimeProvider();
        var policy = new AutoscalerPolicy { MinReplicas = 1, MaxReplicas = 4, TargetQpsPerReplica = 100, UpscaleDelay = TimeSpan.FromMinutes(5) };
        var core = new ControllerDecisionCore(new RequestRateAutoscaler(policy, time), new PlacementPlanner(Tiers, policy.MaxReplicas));
        var at = time.GetUtcNow();
        ReplicaInfo[] replicas = [new(1, "metal", ReplicaStatus.Ready, 1, at), new(2, "metal", ReplicaStatus.Starting, 1, at)];
        ReplicaLoad[] loads = [new(true, null, 500), new(false, null, 0)];

        var decision = core.Decide(replicas, loads, 1);

        Assert.Equal(ScalingReason.Hold, decision.Scaling.Reason);
        // Target 1 with two live replicas: the starting one is the surplus, not the ready one.
        Assert.Equal([2], decision.Plan.Terminate);
    }

    [Fact]
    public void Update_NewMinimum_AppliesAtOnceWithNewPlanner()
    {
        var time = new FakeTimeProvider();
        var policy = new AutoscalerPolicy { MinReplicas = 1, MaxReplicas = 4, TargetQpsPerReplica = 1 };
        var core = new ControllerDecisionCore(new RequestRateAutoscaler(policy, time), new PlacementPlanner(Tiers, 4));

        var updated = core.Update(policy with { MinReplicas = 3 }, new PlacementPlanner(Tiers, 4));
        var decision = core.Decide([], [], 2);

        Assert.Equal(3, updated.TargetReplicas);
        Assert.Equal(["metal", "metal", "cloud"], decision.Plan.Launch);
        Assert.Equal(2, decision.Plan.Version);
    }
}
