namespace WrinkleFree.Service.Autoscaling;

/// <summary>
/// Request counts over a sliding window, kept as a ring of fixed-width time buckets: memory and cost per request are
/// constant whatever the rate (a ring of raw timestamps would need 600k slots at 10k req/s over 60 s). Resolution is
/// window / <see cref="BucketCount"/> (100 ms for the default 60 s window).
/// </summary>
internal sealed class RequestRateWindow
{
    internal const int BucketCount = 600;

    private readonly long _bucketTicks;
    private readonly long[] _epochs = new long[BucketCount];
    private readonly long[] _counts = new long[BucketCount];
    private readonly double _windowSeconds;
    private readonly Lock _gate = new();

    public RequestRateWindow(TimeSpan window)
    {
        _bucketTicks = Math.Max(1, window.Ticks / BucketCount);
        _windowSeconds = _bucketTicks * (double)BucketCount / TimeSpan.TicksPerSecond;
        Array.Fill(_epochs, long.MinValue);
    }

    /// <summary>Adds <paramref name="count"/> requests at <paramref name="now"/>.</summary>
    public void Record(DateTimeOffset now, long count)
    {
        var epoch = now.UtcTicks / _bucketTicks;
        var slot = (int)(epoch % BucketCount);
        // The load balancer calls this from every request thread; a short uncontended-in-practice lock keeps the
        // bucket reset and the increment atomic together.
        lock (_gate)
        {
            if (_epochs[slot] != epoch)
            {
                _epochs[slot] = epoch;
                _counts[slot] = 0;
            }
            _counts[slot] += count;
        }
    }

    /// <summary>Requests per second over the window ending at <paramref name="now"/>.</summary>
    public double Qps(DateTimeOffset now)
    {
        var newest = now.UtcTicks / _bucketTicks;
        var oldest = newest - BucketCount;
        long total = 0;
        lock (_gate)
        {
            for (var i = 0; i < BucketCount; i++)
            {
                var e = _epochs[i];
                if (e > oldest && e <= newest)
                    total += _counts[i];
            }
        }
        return total / _windowSeconds;
    }

    /// <summary>Forgets every recorded request.</summary>
    public void Clear()
    {
        lock (_gate)
            Array.Fill(_epochs, long.MinValue);
    }
}
