using System.Diagnostics;

namespace WrinkleFree.Bench;

/// <summary>The probes' timing: the best per-call time over at least five passes and up to a second of them.</summary>
internal static class ProbeTiming
{
    /// <summary>Runs <paramref name="pass"/> once to warm up, then returns its best time divided by <paramref name="calls"/>.</summary>
    public static double Best(Action pass, int calls)
    {
        pass();
        var best = double.MaxValue;
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        for (var n = 0; n < 5 || (Stopwatch.GetTimestamp() < deadline && n < 200); n++)
        {
            var start = Stopwatch.GetTimestamp();
            pass();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds / calls);
        }

        return best;
    }
}
