using System.Buffers;
using WrinkleFree.Service.Placement;

namespace WrinkleFree.Service.Autoscaling;

/// <summary>
/// SkyServe's request-rate autoscaler on an injected clock: QPS over a sliding window, target =
/// clamp(ceil(qps / target_qps_per_replica), min, max) + overprovision, changed only after the up- or downscale delay's
/// worth of consecutive decisions want it; plus latency and queue-depth signals from the replicas' /health.
/// Deterministic for a given clock and input.
/// </summary>
/// <remarks>
/// <see cref="RecordRequest"/> is thread-safe (the load balancer calls it per request); <see cref="Evaluate"/> and
/// <see cref="UpdatePolicy"/> belong to the single controller loop.
/// </remarks>
public sealed class RequestRateAutoscaler
{
    private readonly TimeProvider _time;
    // Swapped only when an update changes the window length; volatile so request threads see the new one promptly.
    private volatile RequestRateWindow _window;
    private AutoscalerPolicy _policy;
    private int _upThreshold;
    private int _downThreshold;
    private int _upCounter;
    private int _downCounter;
    private int _baseTarget;
    private volatile int _finalTarget;

    /// <summary>Creates the autoscaler at the policy's minimum.</summary>
    public RequestRateAutoscaler(AutoscalerPolicy policy, TimeProvider time)
    {
        _time = time;
        _policy = policy.Validate();
        _window = new RequestRateWindow(policy.QpsWindow);
        SetThresholds();
        SetTarget(policy.MinReplicas);
    }

    /// <summary>The policy in force.</summary>
    public AutoscalerPolicy Policy => _policy;

    /// <summary>Live replicas wanted now, overprovision included.</summary>
    public int TargetReplicas => _finalTarget;

    /// <summary>How long the controller should wait before the next <see cref="Evaluate"/>.</summary>
    public TimeSpan NextDecisionDelay => _finalTarget == 0 ? _policy.ZeroReplicaDecisionInterval : _policy.DecisionInterval;

    /// <summary>
    /// Counts one client request (not its retries). Returns true when the target is zero, telling the caller to wake the
    /// controller now rather than at its next tick (the request then waits for the first ready replica).
    /// </summary>
    public bool RecordRequest() => RecordRequests(1);

    /// <summary>Counts <paramref name="count"/> requests at the current time; see <see cref="RecordRequest"/>.</summary>
    public bool RecordRequests(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        _window.Record(_time.GetUtcNow(), count);
        return _finalTarget == 0;
    }

    /// <summary>Requests per second over the policy's window, ending now.</summary>
    public double CurrentQps() => _window.Qps(_time.GetUtcNow());

    /// <summary>
    /// Makes one decision from the request rate and the live replicas' health.
    /// </summary>
    /// <param name="loads">Every live replica's latest signals (ready or not).</param>
    /// <param name="startingReplicas">Live replicas not ready yet (pending, provisioning, starting): capacity on its way,
    /// so the latency and emergency signals do not add more for the same shortage.</param>
    public ScalingDecision Evaluate(ReadOnlySpan<ReplicaLoad> loads, int startingReplicas)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startingReplicas);
        var policy = _policy;
        var qps = _window.Qps(_time.GetUtcNow());
        var current = _baseTarget;

        var desired = RateTarget(policy, qps);
        var desiredReason = ScalingReason.RequestRate;

        var (medianTtft, overloaded, reported, maxQueue) = ReadSignals(loads, policy.EmergencyQueueDepth);
        var signals = new ScalingSignals(qps, policy.TargetQpsPerReplica, current, desired, reported ? medianTtft : null, policy.TtftThreshold, maxQueue, policy.EmergencyQueueDepth);
        if (medianTtft > policy.TtftThreshold && startingReplicas == 0 && current + 1 > desired)
        {
            desired = Math.Min(current + 1, policy.MaxReplicas);
            desiredReason = ScalingReason.Latency;
        }

        // One extra replica per overloaded one, less those already on their way, at once: waiting out the upscale delay
        // with queues this deep would time clients out.
        var emergencyExtra = overloaded - startingReplicas;
        if (emergencyExtra > 0 && current < policy.MaxReplicas)
        {
            var emergency = Math.Max(desired, (int)Math.Min(policy.MaxReplicas, (long)current + emergencyExtra));
            if (emergency > current)
                return Apply(emergency, qps, ScalingReason.Emergency, signals);
        }

        // Requests at zero replicas scale up at once (skypilot#3359: SkyServe could wait a full delay, or never wake).
        if (current == 0 && desired > 0)
            return Apply(desired, qps, ScalingReason.ScaleFromZero, signals);

        if (desired > current)
        {
            _downCounter = 0;
            if (++_upCounter >= _upThreshold)
                return Apply(desired, qps, desiredReason, signals);
        }
        else if (desired < current)
        {
            _upCounter = 0;
            if (++_downCounter >= _downThreshold)
                return Apply(desired, qps, desiredReason, signals);
        }
        else
        {
            _upCounter = 0;
            _downCounter = 0;
        }
        return new ScalingDecision(_finalTarget, qps, ScalingReason.Hold) { Signals = signals };
    }

    /// <summary>Replaces the policy (an update): resets the hysteresis counters and re-clamps the target.</summary>
    public ScalingDecision UpdatePolicy(AutoscalerPolicy policy)
    {
        policy.Validate();
        if (policy.QpsWindow != _policy.QpsWindow)
            _window = new RequestRateWindow(policy.QpsWindow);
        _policy = policy;
        SetThresholds();
        _upCounter = 0;
        _downCounter = 0;
        var before = _baseTarget;
        SetTarget(Math.Clamp(_baseTarget, policy.MinReplicas, policy.MaxReplicas));
        var qps = CurrentQps();
        var signals = new ScalingSignals(qps, policy.TargetQpsPerReplica, before, RateTarget(policy, qps), null, policy.TtftThreshold, 0, policy.EmergencyQueueDepth);
        return new ScalingDecision(_finalTarget, qps, ScalingReason.PolicyChanged) { Signals = signals };
    }

    private ScalingDecision Apply(int target, double qps, ScalingReason reason, ScalingSignals signals)
    {
        _upCounter = 0;
        _downCounter = 0;
        SetTarget(target);
        return new ScalingDecision(_finalTarget, qps, reason) { Signals = signals };
    }

    private void SetTarget(int baseTarget)
    {
        _baseTarget = baseTarget;
        // max_replicas is a hard ceiling, overprovision included (skypilot#3255).
        _finalTarget = (int)Math.Min((long)baseTarget + _policy.NumOverprovision, _policy.MaxReplicas);
    }

    private void SetThresholds()
    {
        _upThreshold = (int)(_policy.UpscaleDelay.Ticks / _policy.DecisionInterval.Ticks);
        _downThreshold = (int)(_policy.DownscaleDelay.Ticks / _policy.DecisionInterval.Ticks);
    }

    private static int RateTarget(AutoscalerPolicy policy, double qps)
    {
        if (policy.TargetQpsPerReplica is not { } perReplica)
            return policy.MinReplicas;
        // Clamp in double first: ceil of a huge rate would overflow int.
        var wanted = Math.Ceiling(qps / perReplica);
        return (int)Math.Clamp(wanted, policy.MinReplicas, policy.MaxReplicas);
    }

    private static (TimeSpan MedianTtft, int Overloaded, bool TtftReported, int MaxQueueDepth) ReadSignals(ReadOnlySpan<ReplicaLoad> loads, int emergencyDepth)
    {
        var overloaded = 0;
        var maxQueue = 0;
        var rented = ArrayPool<long>.Shared.Rent(Math.Max(1, loads.Length));
        try
        {
            var n = 0;
            foreach (ref readonly var load in loads)
            {
                if (load.QueueDepth > emergencyDepth)
                    overloaded++;
                maxQueue = Math.Max(maxQueue, load.QueueDepth);
                if (load.IsReady && load.TtftP50 is { } ttft)
                    rented[n++] = ttft.Ticks;
            }
            if (n == 0)
                return (TimeSpan.Zero, overloaded, false, maxQueue);
            // Lower median for even counts: a single slow replica out of two should not trigger a scale-up.
            var median = Selection.Nth(rented.AsSpan(0, n), (n - 1) / 2, static (a, b) => a.CompareTo(b));
            return (TimeSpan.FromTicks(median), overloaded, true, maxQueue);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(rented);
        }
    }
}
