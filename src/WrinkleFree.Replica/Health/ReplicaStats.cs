namespace WrinkleFree.Replica.Health;

/// <summary>
/// Sliding-window statistics for /health and /metrics: generated tokens per second, weight bytes streamed per second
/// (bandwidth utilization against the calibrated peak) and the median time to first token. Time comes from a
/// <see cref="TimeProvider"/> so tests can move the window with a fake clock.
/// </summary>
internal sealed class ReplicaStats
{
    private const int MaxTtftSamples = 512;

    private readonly TimeProvider _time;
    private readonly TimeSpan _window;
    private readonly Queue<Point> _samples = new();
    private readonly Queue<(long At, double Seconds)> _ttft = new();
    private long _generatedTokens;

    public ReplicaStats(TimeProvider time, TimeSpan window)
    {
        _time = time;
        _window = window;
        // Counters start at zero now: the first rate covers everything since start-up.
        _samples.Enqueue(new Point(time.GetTimestamp(), 0, 0));
    }

    /// <summary>Peak read bandwidth in bytes per second; 0 until calibrated (utilization then reads 0).</summary>
    public double PeakBytesPerSecond { get; set; }

    public long GeneratedTokens => Interlocked.Read(ref _generatedTokens);

    public void AddGeneratedTokens(int count) => Interlocked.Add(ref _generatedTokens, count);

    public void AddTimeToFirstToken(double seconds)
    {
        lock (_ttft)
        {
            _ttft.Enqueue((_time.GetTimestamp(), seconds));
            if (_ttft.Count > MaxTtftSamples)
            {
                _ttft.Dequeue();
            }
        }
    }

    /// <summary>Median TTFT over the window in milliseconds, or null with no samples.</summary>
    public double? TimeToFirstTokenP50Ms()
    {
        double[] values;
        lock (_ttft)
        {
            var now = _time.GetTimestamp();
            while (_ttft.Count > 0 && _time.GetElapsedTime(_ttft.Peek().At, now) > _window)
            {
                _ttft.Dequeue();
            }

            values = [.. _ttft.Select(s => s.Seconds)];
        }

        if (values.Length == 0)
        {
            return null;
        }

        Array.Sort(values);
        var mid = values.Length / 2;
        var median = values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
        return median * 1000;
    }

    /// <summary>Records the counters now and returns the rates over the window ending now.</summary>
    public Rates Sample(long weightBytesStreamed)
    {
        lock (_samples)
        {
            var now = _time.GetTimestamp();
            var current = new Point(now, GeneratedTokens, weightBytesStreamed);
            // Keep the newest sample at or before the window start as the baseline, so the rate covers the whole window.
            while (_samples.Count > 1 && _time.GetElapsedTime(_samples.ElementAt(1).At, now) >= _window)
            {
                _samples.Dequeue();
            }

            var rates = new Rates(0, 0);
            if (_samples.Count > 0)
            {
                var first = _samples.Peek();
                var seconds = _time.GetElapsedTime(first.At, now).TotalSeconds;
                if (seconds > 0)
                {
                    var tokensPerSecond = (current.Tokens - first.Tokens) / seconds;
                    var bytesPerSecond = (current.WeightBytes - first.WeightBytes) / seconds;
                    rates = new Rates(tokensPerSecond, PeakBytesPerSecond > 0 ? bytesPerSecond / PeakBytesPerSecond : 0);
                }
            }

            // Samples closer than a tenth of the window add nothing but memory.
            if (_samples.Count == 0 || _time.GetElapsedTime(LastAt(), now) >= _window / 10)
            {
                _samples.Enqueue(current);
            }

            return rates;
        }
    }

    private long LastAt()
    {
        long last = 0;
        foreach (var s in _samples)
        {
            last = s.At;
        }

        return last;
    }

    /// <summary>Tokens generated per second and the fraction of peak read bandwidth used, both over the window.</summary>
    public readonly record struct Rates(double TokensPerSecond, double BandwidthUtilization);

    private readonly record struct Point(long At, long Tokens, long WeightBytes);
}
