using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Autoscaling;

namespace WrinkleFree.Service.Tests.Autoscaling;

public sealed class RequestRateAutoscalerTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(20);

    private static AutoscalerPolicy Policy(int min = 1, int max = 10, double qps = 1, int upSeconds = 60, int downSeconds = 120, int over = 0) => new()
    {
        MinReplicas = min,
        MaxReplicas = max,
        TargetQpsPerReplica = qps,
        UpscaleDelay = TimeSpan.FromSeconds(upSeconds),
        DownscaleDelay = TimeSpan.FromSeconds(downSeconds),
        NumOverprovision = over,
    };

    /// <summary>Spreads <paramref name="qps"/> requests per second over one tick, then evaluates.</summary>
    private static ScalingDecision RunTick(RequestRateAutoscaler scaler, FakeTimeProvider time, double qps, ReplicaLoad[]? loads = null, int starting = 0)
    {
        for (var s = 0; s < Tick.TotalSeconds; s++)
        {
            scaler.RecordRequests((long)qps);
            time.Advance(TimeSpan.FromSeconds(1));
        }
        return scaler.Evaluate(loads ?? [], starting);
    }

    [Fact]
    public void CurrentQps_RequestsInsideWindow_AveragedOverWindowAndDroppedAfter()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(), time);
        for (var i = 0; i < 120; i++)
            scaler.RecordRequest();

        time.Advance(TimeSpan.FromSeconds(59.9));
        Assert.Equal(2.0, scaler.CurrentQps(), 6);
        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(0.0, scaler.CurrentQps(), 6);
    }

    [Fact]
    public void CurrentQps_TenThousandPerSecond_CountedExactlyOverSlidingWindow()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(), time);
        // 100 ms steps of 1,000 requests each: 10k req/s for two minutes, one RecordRequest per request.
        for (var step = 0; step < 1200; step++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            for (var i = 0; i < 1000; i++)
                scaler.RecordRequest();
        }
        Assert.Equal(10_000.0, scaler.CurrentQps(), 6);
    }

    [Fact]
    public void RecordRequest_FromManyThreads_NoRequestLost()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(), time);

        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            for (var i = 0; i < 75_000; i++)
                scaler.RecordRequest();
        });

        Assert.Equal(600_000 / 60.0, scaler.CurrentQps(), 6);
    }

    [Fact]
    public void Evaluate_LoadAboveTarget_ScalesUpOnlyAfterUpscaleDelay()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(upSeconds: 60), time);

        Assert.Equal(ScalingReason.Hold, RunTick(scaler, time, 5).Reason);
        Assert.Equal(1, RunTick(scaler, time, 5).TargetReplicas);
        var third = RunTick(scaler, time, 5);

        Assert.Equal(ScalingReason.RequestRate, third.Reason);
        Assert.Equal(5, third.TargetReplicas);
    }

    [Fact]
    public void Evaluate_LoadDropsBelowTarget_ScalesDownOnlyAfterDownscaleDelay()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(upSeconds: 0, downSeconds: 120), time);
        for (var i = 0; i < 3; i++)
            RunTick(scaler, time, 6);
        Assert.Equal(6, scaler.TargetReplicas);

        var targets = new List<int>();
        for (var i = 0; i < 12; i++)
            targets.Add(RunTick(scaler, time, 0).TargetReplicas);

        // Six consecutive ticks wanting fewer (120 s / 20 s), then straight to the latest wanted count.
        Assert.Equal(6, targets[4]);
        Assert.Equal(1, targets[5]);
        Assert.Equal(1, targets[^1]);
        Assert.All(targets, t => Assert.InRange(t, 1, 6));
    }

    [Fact]
    public void Evaluate_LoadAlternatingEveryTick_NeverFlaps()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(upSeconds: 60, downSeconds: 60) with { QpsWindow = TimeSpan.FromSeconds(20) }, time);
        var changes = 0;
        var last = scaler.TargetReplicas;
        for (var i = 0; i < 200; i++)
        {
            var d = RunTick(scaler, time, i % 2 == 0 ? 8 : 0);
            if (d.TargetReplicas != last)
                changes++;
            last = d.TargetReplicas;
        }
        Assert.Equal(0, changes);
    }

    [Fact]
    public void RecordRequest_AtZeroReplicas_SignalsWakeAndNextEvaluateScalesUpAtOnce()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(min: 0, upSeconds: 600), time);
        Assert.Equal(0, scaler.TargetReplicas);
        Assert.Equal(TimeSpan.FromSeconds(5), scaler.NextDecisionDelay);

        Assert.True(scaler.RecordRequest());
        var decision = scaler.Evaluate([], 0);

        Assert.Equal(ScalingReason.ScaleFromZero, decision.Reason);
        Assert.Equal(1, decision.TargetReplicas);
        Assert.False(scaler.RecordRequest());
        Assert.Equal(TimeSpan.FromSeconds(20), scaler.NextDecisionDelay);
    }

    [Fact]
    public void Evaluate_QueueDepthAboveEmergency_AddsOnePerOverloadedReplicaAtOnce()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(min: 3, upSeconds: 3600), time);
        ReplicaLoad[] loads = [new(true, null, 150), new(true, null, 101), new(true, null, 100)];

        var decision = scaler.Evaluate(loads, 0);

        Assert.Equal(ScalingReason.Emergency, decision.Reason);
        Assert.Equal(5, decision.TargetReplicas);
    }

    [Fact]
    public void Evaluate_EmergencyWithReplicasAlreadyStarting_DoesNotAddMore()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(min: 3, upSeconds: 3600), time);
        ReplicaLoad[] loads = [new(true, null, 150), new(true, null, 150), new(true, null, 0)];

        Assert.Equal(ScalingReason.Hold, scaler.Evaluate(loads, 2).Reason);
        Assert.Equal(4, scaler.Evaluate(loads, 1).TargetReplicas);
    }

    [Fact]
    public void Evaluate_ReadyMedianTtftAboveThreshold_AddsOneAfterUpscaleDelay()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(min: 3, upSeconds: 40), time);
        var slow = TimeSpan.FromMilliseconds(800);
        ReplicaLoad[] loads = [new(true, slow, 0), new(true, slow, 0), new(true, TimeSpan.FromMilliseconds(50), 0), new(false, TimeSpan.FromSeconds(9), 0)];

        Assert.Equal(ScalingReason.Hold, scaler.Evaluate(loads, 0).Reason);
        var decision = scaler.Evaluate(loads, 0);

        Assert.Equal(ScalingReason.Latency, decision.Reason);
        Assert.Equal(4, decision.TargetReplicas);
        // While the added replica starts, slow TTFT alone does not add another.
        Assert.Equal(ScalingReason.Hold, scaler.Evaluate(loads, 1).Reason);
        Assert.Equal(ScalingReason.Hold, scaler.Evaluate(loads, 1).Reason);
    }

    [Fact]
    public void Evaluate_FastReplicasNotReadyOneSlow_NoLatencyScaleUp()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(min: 2, upSeconds: 0), time);
        ReplicaLoad[] loads = [new(true, TimeSpan.FromMilliseconds(900), 0), new(true, TimeSpan.FromMilliseconds(100), 0)];

        Assert.Equal(2, scaler.Evaluate(loads, 0).TargetReplicas);
    }

    [Fact]
    public void Evaluate_LoadFarAboveMaxWithOverprovisionAndEmergency_NeverAboveMax()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(min: 1, max: 7, upSeconds: 0, over: 2), time);
        var loads = Enumerable.Repeat(new ReplicaLoad(true, TimeSpan.FromSeconds(3), 500), 7).ToArray();
        for (var i = 0; i < 20; i++)
        {
            var d = RunTick(scaler, time, 1e9, loads);
            Assert.InRange(d.TargetReplicas, 1, 7);
        }
        Assert.Equal(7, scaler.TargetReplicas);
    }

    [Fact]
    public void Evaluate_NoTraffic_NeverBelowMinIncludingOverprovision()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(min: 2, max: 9, upSeconds: 0, downSeconds: 0, over: 1), time);
        for (var i = 0; i < 10; i++)
            Assert.Equal(3, RunTick(scaler, time, 0).TargetReplicas);
    }

    [Fact]
    public void UpdatePolicy_PendingUpscale_ResetsCountersAndClampsToNewBounds()
    {
        var time = new FakeTimeProvider();
        var scaler = new RequestRateAutoscaler(Policy(upSeconds: 60), time);
        RunTick(scaler, time, 5);
        RunTick(scaler, time, 5);

        var updated = scaler.UpdatePolicy(Policy(min: 2, upSeconds: 60));

        Assert.Equal(ScalingReason.PolicyChanged, updated.Reason);
        Assert.Equal(2, updated.TargetReplicas);
        // The two ticks already counted were forgotten: three more are needed.
        Assert.Equal(ScalingReason.Hold, RunTick(scaler, time, 5).Reason);
        Assert.Equal(ScalingReason.Hold, RunTick(scaler, time, 5).Reason);
        Assert.Equal(5, RunTick(scaler, time, 5).TargetReplicas);
    }

    [Theory]
    [InlineData(-1, 1, "MinReplicas")]
    [InlineData(3, 2, "MaxReplicas")]
    [InlineData(1, 0, "MaxReplicas")]
    public void Validate_BadBounds_NamesTheSetting(int min, int max, string param)
    {
        var ex = Assert.Throws<ArgumentException>(() => Policy(min: min, max: max).Validate());
        Assert.Equal(param, ex.ParamName);
    }

    [Fact]
    public void Validate_RangeWithoutTargetQps_NamesTargetQps()
    {
        var ex = Assert.Throws<ArgumentException>(() => (Policy() with { TargetQpsPerReplica = null }).Validate());
        Assert.Equal("TargetQpsPerReplica", ex.ParamName);
    }
}
