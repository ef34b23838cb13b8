namespace WrinkleFree.Inference.Tests;

/// <summary>
/// Checks that code allocates nothing per call in steady state. A per-call allocation shows in every measured window;
/// the runtime's own one-off work on the test thread (tier-up, a thread-static first touch) shows in one window at most,
/// so the check passes when any of a few windows is clean — and fails when none is.
/// </summary>
public static class SteadyState
{
    /// <summary>Runs <paramref name="step"/> <paramref name="warmUp"/> times, then asserts a window of
    /// <paramref name="iterations"/> calls that allocated zero bytes on this thread (up to three windows are tried).</summary>
    public static void AssertAllocatesNothing(Action<int> step, int iterations = 20, int warmUp = 3)
    {
        var call = 0;
        for (var i = 0; i < warmUp; i++)
        {
            step(call++);
        }

        var windows = new long[3];
        for (var w = 0; w < windows.Length; w++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < iterations; i++)
            {
                step(call++);
            }

            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
            if (windows[w] == 0)
            {
                return;
            }
        }

        Assert.Fail($"every window of {iterations} calls allocated: {string.Join(", ", windows)} bytes");
    }
}
