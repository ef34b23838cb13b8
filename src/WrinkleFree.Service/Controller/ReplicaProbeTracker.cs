namespace WrinkleFree.Service.Controller;

/// <summary>
/// One replica's readiness state machine from its first probe on: STARTING until a probe passes, then READY or
/// NOT_READY, ending in FAILED_INITIAL_DELAY or FAILED_PROBING by the clock. Not thread-safe: one prober owns it.
/// </summary>
/// <remarks>
/// A probe passes when it answers 200 within the latency threshold and the replica is not overloaded. Slow or overloaded
/// answers take the replica out of traffic but do not count as failures: a busy replica is alive, and tearing it down
/// after the failure timeout would remove capacity exactly when it is short.
/// </remarks>
public sealed class ReplicaProbeTracker
{
    private readonly ProbePolicy _policy;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _startedAt;
    private DateTimeOffset? _failingSince;
    private bool _everAnswered;
    private bool _adoptedUnprobed;

    /// <summary>Starts tracking a replica whose process has just started; the initial delay counts from now.</summary>
    public ReplicaProbeTracker(ProbePolicy policy, TimeProvider time)
    {
        _policy = policy.Validate();
        _time = time;
        _startedAt = time.GetUtcNow();
    }

    /// <summary>The replica's current state: Starting, Ready, NotReady, FailedInitialDelay, FailedProbing or Preempted.</summary>
    public ReplicaStatus Status { get; private set; } = ReplicaStatus.Starting;

    /// <summary>Applies one probe result and the clock; returns the new status. Terminal states stay.</summary>
    public ReplicaStatus Observe(ProbeResult probe)
    {
        if (Status.IsTerminal())
            return Status;
        var now = _time.GetUtcNow();
        // The first probe of a restarted controller opens a new connection (and TLS session) from a process still
        // warming up: its latency says nothing about the replica, so only its answer counts.
        var coldFirst = _adoptedUnprobed;
        _adoptedUnprobed = false;
        var passed = probe.Answered && (coldFirst || probe.Latency <= _policy.LatencyThreshold) && !probe.Overloaded;
        if (probe.Answered)
            _everAnswered = true;

        if (passed)
        {
            _failingSince = null;
            Status = ReplicaStatus.Ready;
            return Status;
        }

        if (Status == ReplicaStatus.Starting)
        {
            // Busy-but-alive answers during startup do not fail the replica; only silence past the delay does.
            if (!_everAnswered && now - _startedAt > _policy.InitialDelay)
                Status = ReplicaStatus.FailedInitialDelay;
            return Status;
        }

        Status = ReplicaStatus.NotReady;
        if (!probe.Answered)
        {
            _failingSince ??= now;
            if (now - _failingSince.Value >= _policy.ConsecutiveFailureTimeout)
                Status = ReplicaStatus.FailedProbing;
        }
        else
        {
            // An answer, however slow, ends a run of consecutive failures.
            _failingSince = null;
        }
        return Status;
    }

    /// <summary>
    /// Applies a probe still unanswered past the latency threshold: a ready replica is taken out of traffic at once, but
    /// nothing counts as a failure until the probe times out (its result then goes to <see cref="Observe"/>). A starting
    /// replica stays starting.
    /// </summary>
    public ReplicaStatus ObserveOverdue()
    {
        if (Status is ReplicaStatus.Ready && !_adoptedUnprobed)
            Status = ReplicaStatus.NotReady;
        return Status;
    }

    /// <summary>
    /// Starts from READY: a replica that was ready when a restarted controller adopts it keeps its traffic (the endpoint
    /// still routes to it) until a probe says otherwise, instead of dropping out until its first probe of this controller.
    /// </summary>
    public void AssumeReady()
    {
        _everAnswered = true;
        _adoptedUnprobed = true;
        Status = ReplicaStatus.Ready;
    }

    /// <summary>Records that the provider reported the machine gone (spot preemption).</summary>
    public void MarkPreempted() => Status = ReplicaStatus.Preempted;
}
