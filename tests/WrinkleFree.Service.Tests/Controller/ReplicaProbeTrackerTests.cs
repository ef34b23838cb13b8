using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Controller;

namespace WrinkleFree.Service.Tests.Controller;

public sealed class ReplicaProbeTrackerTests
{
    private static readonly ProbePolicy Policy = new()
    {
        InitialDelay = TimeSpan.FromSeconds(60),
        ConsecutiveFailureTimeout = TimeSpan.FromSeconds(30),
        LatencyThreshold = TimeSpan.FromMilliseconds(200),
    };

    private static readonly ProbeResult Ok = new(200, TimeSpan.FromMilliseconds(5));
    private static readonly ProbeResult Down = ProbeResult.NoResponse(TimeSpan.FromSeconds(1));

    [Fact]
    public void Observe_FirstPassingProbe_StartingBecomesReady()
    {
        var time = new FakeTimeProvider();
        var tracker = new ReplicaProbeTracker(Policy, time);
        Assert.Equal(ReplicaStatus.Starting, tracker.Status);

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(ReplicaStatus.Starting, tracker.Observe(Down));
        Assert.Equal(ReplicaStatus.Ready, tracker.Observe(Ok));
    }

    [Fact]
    public void AssumeReady_FirstProbeSlowOrOverdue_StaysReady_LaterSlowProbesCount()
    {
        var tracker = new ReplicaProbeTracker(Policy, new FakeTimeProvider());
        tracker.AssumeReady();
        var slow = new ProbeResult(200, TimeSpan.FromSeconds(2));

        // A restarted controller's first probe: a cold connection, overdue and then slow, but answered.
        Assert.Equal(ReplicaStatus.Ready, tracker.ObserveOverdue());
        Assert.Equal(ReplicaStatus.Ready, tracker.Observe(slow));

        // From then on latency counts again.
        Assert.Equal(ReplicaStatus.NotReady, tracker.ObserveOverdue());
        Assert.Equal(ReplicaStatus.NotReady, tracker.Observe(slow));
        Assert.Equal(ReplicaStatus.Ready, tracker.Observe(Ok));
    }

    [Fact]
    public void AssumeReady_FirstProbeUnanswered_IsNotReady()
    {
        var tracker = new ReplicaProbeTracker(Policy, new FakeTimeProvider());
        tracker.AssumeReady();

        Assert.Equal(ReplicaStatus.NotReady, tracker.Observe(Down));
    }

    [Fact]
    public void Observe_NeverAnsweredByInitialDelay_FailedInitialDelay()
    {
        var time = new FakeTimeProvider();
        var tracker = new ReplicaProbeTracker(Policy, time);

        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(ReplicaStatus.Starting, tracker.Observe(Down));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ReplicaStatus.FailedInitialDelay, tracker.Observe(Down));
        Assert.Equal(ReplicaStatus.FailedInitialDelay, tracker.Observe(Ok));
    }

    [Fact]
    public void Observe_ReadyThenFailing_NotReadyThenFailedProbingAfterTimeout()
    {
        var time = new FakeTimeProvider();
        var tracker = new ReplicaProbeTracker(Policy, time);
        tracker.Observe(Ok);

        Assert.Equal(ReplicaStatus.NotReady, tracker.Observe(new ProbeResult(500, TimeSpan.FromMilliseconds(3))));
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(ReplicaStatus.NotReady, tracker.Observe(Down));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ReplicaStatus.FailedProbing, tracker.Observe(Down));
    }

    [Fact]
    public void Observe_RecoversBeforeTimeout_ReadyAndFailureClockResets()
    {
        var time = new FakeTimeProvider();
        var tracker = new ReplicaProbeTracker(Policy, time);
        tracker.Observe(Ok);
        tracker.Observe(Down);
        time.Advance(TimeSpan.FromSeconds(25));
        Assert.Equal(ReplicaStatus.Ready, tracker.Observe(Ok));

        tracker.Observe(Down);
        time.Advance(TimeSpan.FromSeconds(25));
        Assert.Equal(ReplicaStatus.NotReady, tracker.Observe(Down));
    }

    [Fact]
    public void Observe_SlowOrOverloaded_NotReadyButNeverFailed()
    {
        var time = new FakeTimeProvider();
        var tracker = new ReplicaProbeTracker(Policy, time);
        tracker.Observe(Ok);

        Assert.Equal(ReplicaStatus.NotReady, tracker.Observe(new ProbeResult(200, TimeSpan.FromMilliseconds(201))));
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(ReplicaStatus.NotReady, tracker.Observe(new ProbeResult(200, TimeSpan.FromMilliseconds(2), Overloaded: true)));
        Assert.Equal(ReplicaStatus.Ready, tracker.Observe(Ok));
    }

    [Fact]
    public void Observe_SlowAnswersDuringStartup_NotFailedByInitialDelay()
    {
        var time = new FakeTimeProvider();
        var tracker = new ReplicaProbeTracker(Policy, time);

        tracker.Observe(new ProbeResult(200, TimeSpan.FromSeconds(2)));
        time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(ReplicaStatus.Starting, tracker.Observe(Down));
    }

    [Fact]
    public void MarkPreempted_ReadyReplica_PreemptedAndTerminal()
    {
        var time = new FakeTimeProvider();
        var tracker = new ReplicaProbeTracker(Policy, time);
        tracker.Observe(Ok);

        tracker.MarkPreempted();

        Assert.Equal(ReplicaStatus.Preempted, tracker.Observe(Ok));
        Assert.True(tracker.Status.IsTerminal());
        Assert.False(tracker.Status.CountsTowardMax());
    }

    [Fact]
    public void ObserveOverdue_ReadyReplica_NotReadyAtOnceWithoutCountingAFailure()
    {
        var time = new FakeTimeProvider();
        var tracker = new ReplicaProbeTracker(Policy, time);
        Assert.Equal(ReplicaStatus.Starting, tracker.ObserveOverdue());
        Assert.Equal(ReplicaStatus.Ready, tracker.Observe(Ok));

        Assert.Equal(ReplicaStatus.NotReady, tracker.ObserveOverdue());
        // Overdue for longer than the failure timeout: still only not ready, since no probe has failed yet.
        time.Advance(TimeSpan.FromSeconds(45));
        Assert.Equal(ReplicaStatus.NotReady, tracker.ObserveOverdue());
        // The probe then times out: the failure run starts now, not when the probe was sent.
        Assert.Equal(ReplicaStatus.NotReady, tracker.Observe(Down));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(ReplicaStatus.Ready, tracker.Observe(Ok));
    }

    [Theory]
    [InlineData(ReplicaStatus.Provisioning, false, true)]
    [InlineData(ReplicaStatus.Starting, false, true)]
    [InlineData(ReplicaStatus.Ready, false, true)]
    [InlineData(ReplicaStatus.NotReady, false, true)]
    [InlineData(ReplicaStatus.Unknown, false, true)]
    [InlineData(ReplicaStatus.ShuttingDown, false, false)]
    [InlineData(ReplicaStatus.FailedProvision, true, false)]
    [InlineData(ReplicaStatus.FailedCleanup, true, false)]
    public void StatusHelpers_Classify(ReplicaStatus status, bool terminal, bool countsTowardMax)
    {
        Assert.Equal(terminal, status.IsTerminal());
        Assert.Equal(countsTowardMax, status.CountsTowardMax());
        Assert.Equal(status == ReplicaStatus.Ready, status.IsReady());
    }

    [Fact]
    public void SkyServeName_EveryStatus_RoundTrips()
    {
        foreach (var status in Enum.GetValues<ReplicaStatus>())
        {
            Assert.True(ReplicaStatusExtensions.TryParseSkyServeName(status.ToSkyServeName(), out var parsed));
            Assert.Equal(status, parsed);
        }
        Assert.Equal("FAILED_INITIAL_DELAY", ReplicaStatus.FailedInitialDelay.ToSkyServeName());
        Assert.False(ReplicaStatusExtensions.TryParseSkyServeName("RUNNING", out _));
    }
}
