namespace WrinkleFree.Replica.Backends.Vllm;

/// <summary>
/// How the vllm backend reaches its OpenAI-compatible upstream: a URL, or a shell command the replica starts and supervises
/// (with <c>UPSTREAM_PORT</c> in its environment), or both. Call <see cref="Validate"/> once at the edge.
/// </summary>
public sealed record VllmBackendOptions
{
    /// <summary>Base address of the upstream (http://host:port). Without it, a command is required and gets a free local port.</summary>
    public Uri? UpstreamUrl { get; init; }

    /// <summary>Command line run with <c>/bin/sh -c</c> in its own process group; it must listen on <c>$UPSTREAM_PORT</c>.</summary>
    public string? UpstreamCommand { get; init; }

    /// <summary>Path polled for readiness: 200 means ready (vLLM, llama.cpp and <c>wf replica</c> all serve it).</summary>
    public string HealthPath { get; init; } = "/health";

    /// <summary>How long a started upstream may take to answer /health 200 before it is restarted (vLLM loads take minutes).</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Time between health checks once the upstream is ready (and between polls while it starts).</summary>
    public TimeSpan HealthInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one health check may take before it counts as a failure.</summary>
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Consecutive failed health checks after which the upstream is Unavailable (and a supervised one restarted).</summary>
    public int UnhealthyThreshold { get; init; } = 3;

    /// <summary>Delay before the first restart of a supervised upstream; it doubles with every failed start.</summary>
    public TimeSpan RestartBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Cap of the exponential restart delay.</summary>
    public TimeSpan RestartBackoffMax { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The longest the upstream may stay silent: until it answers a request's headers and between two streamed chunks.
    /// An idle limit rather than a total one, so that long generations are not cut.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Time between SIGTERM and SIGKILL when stopping a supervised upstream.</summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Model id to advertise instead of the upstream's first GET /v1/models id.</summary>
    public string? ModelId { get; init; }

    /// <summary>Most generations in flight through this backend (the replica's slots plus its queue); more are refused with 429 at once.</summary>
    public int MaxInFlight { get; init; } = int.MaxValue;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (MaxInFlight < 1)
        {
            throw new ArgumentException($"{nameof(MaxInFlight)} is {MaxInFlight} but must be >= 1", nameof(MaxInFlight));
        }

        if (UpstreamUrl is null && string.IsNullOrWhiteSpace(UpstreamCommand))
        {
            throw new ArgumentException($"either {nameof(UpstreamUrl)} or {nameof(UpstreamCommand)} must be given", nameof(UpstreamUrl));
        }

        if (UpstreamUrl is not null
            && (!UpstreamUrl.IsAbsoluteUri || (UpstreamUrl.Scheme != Uri.UriSchemeHttp && UpstreamUrl.Scheme != Uri.UriSchemeHttps)))
        {
            throw new ArgumentException($"{nameof(UpstreamUrl)} is '{UpstreamUrl}' but must be an absolute http:// or https:// address", nameof(UpstreamUrl));
        }

        if (!HealthPath.StartsWith('/'))
        {
            throw new ArgumentException($"{nameof(HealthPath)} is '{HealthPath}' but must start with '/'", nameof(HealthPath));
        }

        Positive(StartupTimeout, nameof(StartupTimeout));
        Positive(HealthInterval, nameof(HealthInterval));
        Positive(HealthTimeout, nameof(HealthTimeout));
        Positive(RestartBackoff, nameof(RestartBackoff));
        Positive(RequestTimeout, nameof(RequestTimeout));
        if (StopGracePeriod < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(StopGracePeriod)} is {StopGracePeriod} but must be >= 0", nameof(StopGracePeriod));
        }

        if (RestartBackoffMax < RestartBackoff)
        {
            throw new ArgumentException($"{nameof(RestartBackoffMax)} is {RestartBackoffMax} but must be >= {nameof(RestartBackoff)} ({RestartBackoff})", nameof(RestartBackoffMax));
        }

        if (UnhealthyThreshold < 1)
        {
            throw new ArgumentException($"{nameof(UnhealthyThreshold)} is {UnhealthyThreshold} but must be >= 1", nameof(UnhealthyThreshold));
        }

        if (ModelId is not null && string.IsNullOrWhiteSpace(ModelId))
        {
            throw new ArgumentException($"{nameof(ModelId)} must not be blank when given", nameof(ModelId));
        }
    }

    /// <summary>The delay before restart number <paramref name="attempt"/> (0-based): doubling from RestartBackoff, capped.</summary>
    internal TimeSpan BackoffFor(int attempt)
    {
        // Doubling in floating point cannot overflow; the cap bounds the result long before TimeSpan's range.
        var ticks = RestartBackoff.Ticks * Math.Pow(2, Math.Min(attempt, 62));
        return ticks >= RestartBackoffMax.Ticks ? RestartBackoffMax : TimeSpan.FromTicks((long)ticks);
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{name} is {value} but must be > 0", name);
        }
    }
}
