using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Controller;

/// <summary>
/// Keeps a service whose replicas keep failing from relaunching them at the tick rate forever: each failure with no
/// replica becoming ready since doubles the wait before the next launch (capped), and <see cref="FailurePolicySpec.MaxFailures"/>
/// failures within the window mark the service failed, after which nothing is launched until the spec changes
/// (<see cref="Reset"/>). A replica turning ready ends the streak. Not thread-safe: the controller's loop owns it.
/// </summary>
public sealed class CrashLoopGuard
{
    private readonly Queue<DateTimeOffset> _failures = new();
    private FailurePolicySpec _policy;
    private int _consecutive;

    /// <summary>Creates a guard with no failures recorded.</summary>
    public CrashLoopGuard(FailurePolicySpec policy) => _policy = policy;

    /// <summary>When the next launch may happen; null when launches are not held back.</summary>
    public DateTimeOffset? NextLaunchAt { get; private set; }

    /// <summary>True once too many failures fell in the window: the service is FAILED and launches nothing.</summary>
    public bool GaveUp { get; private set; }

    /// <summary>Failures since the last replica became ready.</summary>
    public int ConsecutiveFailures => _consecutive;

    /// <summary>Why the service gave up, or null while it has not.</summary>
    public string? GaveUpReason { get; private set; }

    /// <summary>The last failure's description, kept until the spec changes.</summary>
    public string? LastFailure { get; private set; }

    /// <summary>Records a replica failure at <paramref name="now"/>; returns the backoff it starts (zero once given up).</summary>
    public TimeSpan RecordFailure(DateTimeOffset now, string description)
    {
        LastFailure = description;
        _consecutive++;
        _failures.Enqueue(now);
        while (_failures.Count > 0 && now - _failures.Peek() > TimeSpan.FromSeconds(_policy.WindowSeconds))
            _failures.Dequeue();
        if (_failures.Count >= _policy.MaxFailures)
        {
            GaveUp = true;
            GaveUpReason = $"{_failures.Count} replica failures within {_policy.WindowSeconds} s (failure_policy.max_failures {_policy.MaxFailures}) with no replica ready; last: {description}";
            NextLaunchAt = null;
            return TimeSpan.Zero;
        }
        var backoff = Backoff(_consecutive);
        NextLaunchAt = now + backoff;
        return backoff;
    }

    /// <summary>A replica passed its readiness probe: the streak ends and launches are no longer held back.</summary>
    public void RecordReady()
    {
        _consecutive = 0;
        _failures.Clear();
        NextLaunchAt = null;
    }

    /// <summary>True when a launch may happen at <paramref name="now"/>.</summary>
    public bool MayLaunch(DateTimeOffset now) => !GaveUp && (NextLaunchAt is not { } at || now >= at);

    /// <summary>Marks the service as given up with <paramref name="reason"/> (a controller restarted on a FAILED service).</summary>
    public void Restore(string reason)
    {
        GaveUp = true;
        GaveUpReason = reason;
        LastFailure = reason;
    }

    /// <summary>A new spec version: forget the failures (the fix may be in it) and use <paramref name="policy"/> from now on.</summary>
    public void Reset(FailurePolicySpec policy)
    {
        _policy = policy;
        _failures.Clear();
        _consecutive = 0;
        NextLaunchAt = null;
        GaveUp = false;
        GaveUpReason = null;
        LastFailure = null;
    }

    /// <summary>The wait after the <paramref name="consecutive"/>-th failure in a row: initial × 2^(n-1), at most the cap.</summary>
    public TimeSpan Backoff(int consecutive)
    {
        var seconds = _policy.InitialBackoffSeconds * Math.Pow(2, Math.Min(30, Math.Max(0, consecutive - 1)));
        return TimeSpan.FromSeconds(Math.Min(seconds, _policy.MaxBackoffSeconds));
    }
}
