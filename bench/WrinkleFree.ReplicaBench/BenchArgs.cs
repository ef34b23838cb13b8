using System.Globalization;

namespace WrinkleFree.ReplicaBench;

/// <summary>The benches' "--name value" options and their latency percentiles, in one place.</summary>
internal static class BenchArgs
{
    public static string Arg(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public static int Int(string[] args, string name, int fallback) =>
        int.Parse(Arg(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    /// <summary>The nearest-rank <paramref name="p"/>th percentile of <paramref name="seconds"/>, in milliseconds.</summary>
    public static double PercentileMs(IEnumerable<double> seconds, double p)
    {
        var sorted = seconds.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)] * 1000;
    }
}
