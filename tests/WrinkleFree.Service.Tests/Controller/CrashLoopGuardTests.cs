using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Tests.Controller;

public sealed class CrashLoopGuardTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void RecordFailure_Consecutive_BackoffDoublesUpToTheCap()
    {
        var guard = new CrashLoopGuard(new FailurePolicySpec { MaxFailures = 100, InitialBackoffSeconds = 5, MaxBackoffSeconds = 30 });
        var waits = Enumerable.Range(0, 6).Select(i => guard.RecordFailure(T0.AddSeconds(i), "boom").TotalSeconds).ToArray();
        Assert.Equal([5, 10, 20, 30, 30, 30], waits);
        Assert.False(guard.MayLaunch(T0.AddSeconds(5 + 29)));
        Assert.True(guard.MayLaunch(T0.AddSeconds(5 + 30)));
    }

    [Fact]
    public void RecordReady_EndsTheStreak_NextFailureWaitsTheInitialBackoffAgain()
    {
        var guard = new CrashLoopGuard(new FailurePolicySpec { MaxFailures = 100, InitialBackoffSeconds = 2, MaxBackoffSeconds = 60 });
        guard.RecordFailure(T0, "a");
        guard.RecordFailure(T0, "b");
        guard.RecordReady();
        Assert.True(guard.MayLaunch(T0));
        Assert.Equal(TimeSpan.FromSeconds(2), guard.RecordFailure(T0, "c"));
        Assert.Equal(1, guard.ConsecutiveFailures);
    }

    [Fact]
    public void RecordFailure_MaxFailuresWithinWindow_GivesUpWithTheLastReason()
    {
        var guard = new CrashLoopGuard(new FailurePolicySpec { MaxFailures = 3, WindowSeconds = 60 });
        guard.RecordFailure(T0, "replica 1: exited with code 1");
        guard.RecordFailure(T0.AddSeconds(10), "replica 2: exited with code 1");
        Assert.False(guard.GaveUp);
        guard.RecordFailure(T0.AddSeconds(20), "replica 3: exited with code 1: model file '/x.gguf' does not exist");
        Assert.True(guard.GaveUp);
        Assert.False(guard.MayLaunch(T0.AddDays(1)));
        Assert.Contains("3 replica failures within 60 s", guard.GaveUpReason, StringComparison.Ordinal);
        Assert.Contains("model file '/x.gguf' does not exist", guard.GaveUpReason, StringComparison.Ordinal);

        guard.Reset(new FailurePolicySpec());
        Assert.False(guard.GaveUp);
        Assert.True(guard.MayLaunch(T0.AddSeconds(20)));
        Assert.Null(guard.LastFailure);
    }

    [Fact]
    public void RecordFailure_FailuresOutsideTheWindow_DoNotCount()
    {
        var guard = new CrashLoopGuard(new FailurePolicySpec { MaxFailures = 3, WindowSeconds = 60, MaxBackoffSeconds = 10 });
        guard.RecordFailure(T0, "a");
        guard.RecordFailure(T0.AddSeconds(61), "b");
        guard.RecordFailure(T0.AddSeconds(122), "c");
        Assert.False(guard.GaveUp);
    }

    [Fact]
    public void Describe_ReplicaLogEndsWithError_QuotesItAfterTheHeadline()
    {
        var log = Path.GetTempFileName();
        try
        {
            File.WriteAllText(log, "--- wf: replica 1 of svc starting ---\nloading\nfail: a very long stack trace\nerror: the model failed to load: model file '/m.gguf' does not exist\n");
            Assert.Equal("exited with code 1: the model failed to load: model file '/m.gguf' does not exist", FailureReasons.Describe("exited with code 1", log));
            File.WriteAllText(log, "--- wf: replica 1 of svc starting ---\none\ntwo\nthree\nfour\n\n");
            Assert.Equal("exited with code 3; last output: two | three | four", FailureReasons.Describe("exited with code 3", log));
            Assert.Equal("exited", FailureReasons.Describe("exited", Path.Combine(Path.GetTempPath(), "no-such-" + Guid.NewGuid())));
        }
        finally
        {
            File.Delete(log);
        }
    }
}
