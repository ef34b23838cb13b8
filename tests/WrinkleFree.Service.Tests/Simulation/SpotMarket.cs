namespace WrinkleFree.Service.Tests.Simulation;

/// <summary>
/// A seeded day of spot weather per zone: a steady preemption rate (a few % of the zone's replicas per hour), correlated
/// bursts when a zone reclaims a large share of its spot machines within minutes, and capacity outages during which every
/// launch in the zone fails (InsufficientInstanceCapacity, ZONE_RESOURCE_POOL_EXHAUSTED).
/// </summary>
internal sealed class SpotMarket
{
    private readonly Dictionary<string, Zone> _zones = new(StringComparer.Ordinal);

    /// <param name="zones">Each spot tier (one zone) and its steady preemption rate per replica-hour.</param>
    /// <param name="seed">Seeds the bursts and outages.</param>
    public SpotMarket(IEnumerable<(string Tier, double RatePerHour)> zones, int seed)
    {
        var rng = new Random(seed);
        foreach (var (tier, rate) in zones)
        {
            var zone = new Zone(rate);
            // Two or three reclaim waves a day: 10-30 minutes at 100-250 % per hour, 15-70 % of the zone gone.
            var bursts = 2 + rng.Next(2);
            for (var i = 0; i < bursts; i++)
            {
                var start = rng.NextDouble() * 86_400;
                zone.Bursts.Add((start, start + 600 + rng.NextDouble() * 1200, 1.0 + rng.NextDouble() * 1.5));
            }
            // Most zones run out of capacity once a day for half an hour to two hours.
            if (rng.NextDouble() < 0.7)
            {
                var start = rng.NextDouble() * 86_400;
                zone.Outages.Add((start, start + 1800 + rng.NextDouble() * 5400));
            }
            _zones.Add(tier, zone);
        }
    }

    /// <summary>The chance per replica-hour that a ready spot replica in <paramref name="tier"/> is reclaimed at <paramref name="seconds"/>.</summary>
    public double PreemptionRate(string tier, double seconds)
    {
        var zone = _zones[tier];
        var rate = zone.RatePerHour;
        foreach (var (start, end, extra) in zone.Bursts)
        {
            if (seconds >= start && seconds < end)
                rate += extra;
        }
        return rate;
    }

    /// <summary>True while <paramref name="tier"/>'s zone has no spot capacity: launches there fail to provision.</summary>
    public bool OutOfCapacity(string tier, double seconds)
    {
        foreach (var (start, end) in _zones[tier].Outages)
        {
            if (seconds >= start && seconds < end)
                return true;
        }
        return false;
    }

    /// <summary>One line per zone: rate, bursts and outages, for the test output and docs.</summary>
    public IEnumerable<string> Describe() => _zones.Select(kv =>
        $"{kv.Key}: {kv.Value.RatePerHour:P0}/h, bursts " +
        string.Join(", ", kv.Value.Bursts.OrderBy(b => b.Start).Select(b => $"{Clock(b.Start)}+{(b.End - b.Start) / 60:F0}min@{b.Extra:P0}/h")) +
        (kv.Value.Outages.Count == 0 ? "" : ", out of capacity " + string.Join(", ", kv.Value.Outages.Select(o => $"{Clock(o.Start)}+{(o.End - o.Start) / 60:F0}min"))));

    private static string Clock(double seconds) => TimeSpan.FromSeconds(seconds).ToString(@"hh\:mm", System.Globalization.CultureInfo.InvariantCulture);

    private sealed class Zone(double ratePerHour)
    {
        public double RatePerHour { get; } = ratePerHour;
        public List<(double Start, double End, double Extra)> Bursts { get; } = [];
        public List<(double Start, double End)> Outages { get; } = [];
    }
}
