using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.State;

namespace WrinkleFree.Service.Tests.Autoscaling;

/// <summary>The reason each autoscaler decision gives in numbers, as `wf events` prints it.</summary>
public sealed class ScalingSignalsTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(20);

    private static AutoscalerPolicy Policy(int min = 1, int upSeconds = 40, int downSeconds = 40) => new()
    {
        MinReplicas = min,
        MaxReplicas = 10,
        TargetQpsPerReplica = 5,
        UpscaleDelay = TimeSpan.FromSeconds(upSeconds),
        DownscaleDelay = TimeSpan.FromSeconds(downSeconds),
    };

    /// <summary>Runs <paramref name="ticks"/> decisions at a steady rate; returns the last that changed the target.</summary>
    private static ScalingDecision RunTicks(RequestRateAutoscaler scaler, FakeTimeProvider time, int ticks, long perSecond)
    {
        ScalingDecision changed = default;
        for (var t = 0; t < ticks; t++)
        {
            for (var s = 0; s < Tick.TotalSeconds; s++)
            {
                scaler.RecordRequests(perSecond);
                time.Advance(TimeSpan.FromSeconds(1));
            }
            if (scaler.Evaluate([], 0) is { Reason: not ScalingReason.Hold } decision)
                changed = decision;
        }
        return changed;
    }

    [Fact]
    public void Describe_RateAboveTarget_ComparesQpsWithCurrentReplicas()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(min: 2), time);

        var up = RunTicks(scaler, time, 4, 12);

        Assert.Equal(ScalingReason.RequestRate, up.Reason);
        Assert.Equal(3, up.TargetReplicas);
        // The 60 s window ends inside the newest second: 59 full seconds of 12 req/s.
        Assert.Equal("QPS 11.8 > 2 replicas × 5.0", up.Describe());
        Assert.Equal("2 → 3 replicas: QPS 11.8 > 2 replicas × 5.0", ServiceEvents.Scale("svc", 2, up)!.Message);
    }

    [Fact]
    public void Describe_RateBelowTarget_SaysHowFewReplicasCarryIt()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(), time);
        RunTicks(scaler, time, 3, 12);

        var down = RunTicks(scaler, time, 6, 3);

        Assert.Equal(ScalingReason.RequestRate, down.Reason);
        Assert.Equal(1, down.TargetReplicas);
        Assert.Equal("QPS 3.0 ≤ 1 replica × 5.0", down.Describe());
        Assert.Equal(ServiceEventKinds.ScaleDown, ServiceEvents.Scale("svc", 3, down)!.Kind);
    }

    [Fact]
    public void Describe_SlowTtftAndDeepQueue_NameTheSignalAndItsThreshold()
    {
        var time = new FakeTimeProvider();
        var slow = new RequestRateAutoscaler(Policy(min: 2, upSeconds: 20), time);
        ReplicaLoad[] slowLoads = [new(true, TimeSpan.FromMilliseconds(812), 0), new(true, TimeSpan.FromMilliseconds(900), 0)];
        var deep = new RequestRateAutoscaler(Policy(min: 2, upSeconds: 3600), time);
        ReplicaLoad[] deepLoads = [new(true, null, 140), new(true, null, 3)];

        var latency = slow.Evaluate(slowLoads, 0);
        var emergency = deep.Evaluate(deepLoads, 0);

        Assert.Equal((ScalingReason.Latency, "TTFT p50 812 ms > 500 ms"), (latency.Reason, latency.Describe()));
        Assert.Equal((ScalingReason.Emergency, "queue depth 140 > 100"), (emergency.Reason, emergency.Describe()));
    }

    [Fact]
    public void Scale_TargetUnchanged_IsNoEvent()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(), time);

        var hold = scaler.Evaluate([], 0);

        Assert.Equal(ScalingReason.Hold, hold.Reason);
        Assert.Null(ServiceEvents.Scale("svc", 1, hold));
        Assert.Equal("holding at QPS 0.0", hold.Describe());
    }
}
