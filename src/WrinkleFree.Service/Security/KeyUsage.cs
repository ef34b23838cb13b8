namespace WrinkleFree.Service.Security;

/// <summary>
/// One key's use at one endpoint: sliding 60 s windows of request arrivals and of tokens used, and the requests in
/// flight. Admission and release are atomic under one lock, so N parallel requests against a limit of M admit exactly M.
/// </summary>
internal sealed class KeyUsage
{
    /// <summary>The length of the rate windows.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private readonly Queue<long> _requests = new();
    private readonly Queue<(long At, long Tokens)> _tokens = new();
    private long _tokenSum;
    private int _inFlight;

    /// <summary>Requests now in flight with this key.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
                return _inFlight;
        }
    }

    /// <summary>Admits one request under <paramref name="key"/>'s limits at <paramref name="nowMs"/>, or names the limit it hits.</summary>
    public (bool Admitted, string? Limit, TimeSpan RetryAfter) TryAcquire(EndpointKey key, long nowMs)
    {
        var window = (long)Window.TotalMilliseconds;
        lock (_gate)
        {
            while (_requests.Count > 0 && _requests.Peek() <= nowMs - window)
                _requests.Dequeue();
            while (_tokens.Count > 0 && _tokens.Peek().At <= nowMs - window)
                _tokenSum -= _tokens.Dequeue().Tokens;
            if (key.Concurrency is { } concurrency && _inFlight >= concurrency)
                return (false, $"{concurrency} concurrent requests", TimeSpan.FromSeconds(1));
            if (key.Rpm is { } rpm && _requests.Count >= rpm)
                return (false, $"{rpm} requests/min", Until(_requests.Peek() + window, nowMs));
            if (key.Tpm is { } tpm && _tokenSum >= tpm)
                return (false, $"{tpm} tokens/min", Until(FreeingEnough(tpm, window), nowMs));
            _requests.Enqueue(nowMs);
            _inFlight++;
            return (true, null, TimeSpan.Zero);
        }
    }

    /// <summary>Ends one admitted request that used <paramref name="tokens"/> tokens (0 when unknown).</summary>
    public void Release(long tokens, long nowMs)
    {
        lock (_gate)
        {
            _inFlight--;
            if (tokens > 0)
            {
                _tokens.Enqueue((nowMs, tokens));
                _tokenSum += tokens;
            }
        }
    }

    private static TimeSpan Until(long atMs, long nowMs) => TimeSpan.FromMilliseconds(Math.Max(1000, atMs - nowMs));

    // The time the window's sum falls below the limit again: when enough of its oldest entries have left it.
    private long FreeingEnough(long limit, long window)
    {
        var sum = _tokenSum;
        foreach (var (at, tokens) in _tokens)
        {
            sum -= tokens;
            if (sum < limit)
                return at + window;
        }
        return 0;
    }
}
