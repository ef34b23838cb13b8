using WrinkleFree.Service.Controller;

namespace WrinkleFree.Service.Status;

/// <summary>
/// The last hour of every service's load, latency and cost in memory, for the status page's charts: one
/// <see cref="HistorySample"/> per service per <see cref="Resolution"/> (a later sample in the same slot replaces the
/// earlier), in a fixed ring per service, so memory stays bounded however long the daemon runs. Thread-safe.
/// </summary>
public sealed class ServiceHistory
{
    /// <summary>Default time between samples.</summary>
    public static readonly TimeSpan DefaultResolution = TimeSpan.FromSeconds(10);

    /// <summary>Default length of history kept.</summary>
    public static readonly TimeSpan DefaultSpan = TimeSpan.FromHours(1);

    private readonly TimeProvider _time;
    private readonly Dictionary<string, Ring> _rings = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly int _capacity;

    /// <summary>A history sampled every <paramref name="resolution"/> (10 s) keeping <paramref name="span"/> (1 h).</summary>
    public ServiceHistory(TimeProvider time, TimeSpan? resolution = null, TimeSpan? span = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        Resolution = resolution ?? DefaultResolution;
        Span = span ?? DefaultSpan;
        if (Resolution <= TimeSpan.Zero || Span < Resolution)
            throw new ArgumentException($"the history needs resolution > 0 and span >= resolution, got {Resolution} and {Span}");
        _capacity = (int)Math.Ceiling(Span / Resolution);
    }

    /// <summary>Time between samples.</summary>
    public TimeSpan Resolution { get; }

    /// <summary>How far back samples are kept.</summary>
    public TimeSpan Span { get; }

    /// <summary>
    /// Samples every snapshot now; a service with no snapshot in <paramref name="snapshots"/> is gone and its history is
    /// dropped (a service re-created under its name starts a new chart).
    /// </summary>
    public void Record(IEnumerable<ServiceSnapshot> snapshots)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        var now = _time.GetUtcNow();
        var slot = now.UtcTicks / Resolution.Ticks;
        lock (_gate)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var snapshot in snapshots)
            {
                seen.Add(snapshot.Name);
                if (!_rings.TryGetValue(snapshot.Name, out var ring))
                    _rings[snapshot.Name] = ring = new Ring(_capacity);
                ring.Put(slot, HistorySample.Of(snapshot, now));
            }
            foreach (var name in _rings.Keys.Where(n => !seen.Contains(n)).ToList())
                _rings.Remove(name);
        }
    }

    /// <summary>A service's samples from the last <see cref="Span"/>, oldest first; empty for a service never sampled.</summary>
    public IReadOnlyList<HistorySample> Samples(string service)
    {
        var oldest = _time.GetUtcNow() - Span;
        lock (_gate)
            return _rings.TryGetValue(service, out var ring) ? ring.Since(oldest) : [];
    }

    /// <summary>Calls <see cref="Record"/> now and every <see cref="Resolution"/> until the returned timer is disposed.</summary>
    public ITimer StartSampling(Func<IEnumerable<ServiceSnapshot>> snapshots)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        return _time.CreateTimer(_ => Record(snapshots()), null, TimeSpan.Zero, Resolution);
    }

    /// <summary>A fixed-size ring of samples, one per time slot.</summary>
    private sealed class Ring(int capacity)
    {
        private readonly HistorySample[] _samples = new HistorySample[capacity];
        private readonly long[] _slots = new long[capacity];
        private int _next;
        private int _count;

        public void Put(long slot, HistorySample sample)
        {
            var last = (_next - 1 + _samples.Length) % _samples.Length;
            if (_count > 0 && _slots[last] == slot)
            {
                _samples[last] = sample;
                return;
            }
            _samples[_next] = sample;
            _slots[_next] = slot;
            _next = (_next + 1) % _samples.Length;
            _count = Math.Min(_count + 1, _samples.Length);
        }

        public List<HistorySample> Since(DateTimeOffset oldest)
        {
            var list = new List<HistorySample>(_count);
            for (var i = 0; i < _count; i++)
            {
                var sample = _samples[(_next - _count + i + _samples.Length) % _samples.Length];
                if (sample.At > oldest)
                    list.Add(sample);
            }
            return list;
        }
    }
}
