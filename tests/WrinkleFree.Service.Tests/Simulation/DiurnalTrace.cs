namespace WrinkleFree.Service.Tests.Simulation;

/// <summary>
/// A synthetic day of traffic: a diurnal curve from a night trough to an afternoon peak, with seeded bursts on top
/// (short spikes, one of them large enough to push the target past max_replicas).
/// </summary>
internal sealed class DiurnalTrace
{
    private readonly (double StartSeconds, double DurationSeconds, double ExtraQps)[] _bursts;

    public DiurnalTrace(int seed, double troughQps, double peakQps)
    {
        TroughQps = troughQps;
        PeakQps = peakQps;
        var rng = new Random(seed);
        var bursts = new List<(double, double, double)>();
        for (var i = 0; i < 12; i++)
            bursts.Add((rng.NextDouble() * 86_400, 120 + rng.NextDouble() * 900, peakQps * (0.05 + rng.NextDouble() * 0.25)));
        // The big one at the peak: more than max_replicas can carry.
        bursts.Add((15.5 * 3600, 1800, peakQps * 0.4));
        _bursts = [.. bursts];
    }

    public double TroughQps { get; }

    public double PeakQps { get; }

    /// <summary>Requests per second at <paramref name="seconds"/> into the day.</summary>
    public double QpsAt(double seconds)
    {
        // Trough at 04:00, peak at 16:00.
        var phase = (seconds - 4 * 3600) / 86_400 * 2 * Math.PI;
        var qps = TroughQps + (PeakQps - TroughQps) * (1 - Math.Cos(phase)) / 2;
        foreach (var (start, duration, extra) in _bursts)
        {
            if (seconds >= start && seconds < start + duration)
                qps += extra;
        }
        return qps;
    }
}
