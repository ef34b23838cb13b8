namespace WrinkleFree.Service.Controller;

/// <summary>The outcome of one readiness probe.</summary>
/// <param name="StatusCode">The HTTP status, or null when no response came (connection refused, reset, probe timeout).</param>
/// <param name="Latency">Time from sending the probe to its response.</param>
/// <param name="Overloaded">True when the replica's /health body says it is overloaded.</param>
public readonly record struct ProbeResult(int? StatusCode, TimeSpan Latency, bool Overloaded = false)
{
    /// <summary>A probe that got no response at all.</summary>
    public static ProbeResult NoResponse(TimeSpan latency) => new(null, latency);

    /// <summary>True when the replica answered 200: it is alive, even if too slow or busy to take traffic.</summary>
    public bool Answered => StatusCode == 200;
}
