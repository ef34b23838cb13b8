using System.Text.Json;

namespace WrinkleFree.Service.Spec;

/// <summary>
/// SkyServe's <c>service.readiness_probe</c>: how the controller decides a replica may take traffic, plus our latency bound.
/// </summary>
public sealed record ReadinessProbeSpec
{
    /// <summary>
    /// Path probed on each replica; must start with '/'. SkyServe's default is "/", ours is "/health": a replica answers
    /// 200 there only once its model is loaded (and 503 while overloaded), where "/" would pass a replica still loading.
    /// </summary>
    public string Path { get; init; } = "/health";

    /// <summary>Time a new replica has to become ready before it is FAILED_INITIAL_DELAY.</summary>
    public int InitialDelaySeconds { get; init; } = 1200;

    /// <summary>Timeout of one probe request.</summary>
    public int TimeoutSeconds { get; init; } = 15;

    /// <summary>Interval between probes of one replica.</summary>
    public int EndpointProbeIntervalSeconds { get; init; } = 10;

    /// <summary>How long a ready replica may keep failing probes before it is FAILED_PROBING and replaced.</summary>
    public int ConsecutiveFailureThresholdTimeoutSeconds { get; init; } = 180;

    /// <summary>Ours: a probe slower than this marks the replica not ready, so slow replicas stop taking traffic.</summary>
    public int LatencyThresholdMs { get; init; } = 200;

    /// <summary>When set, the probe is a POST with this JSON body (a string, or a map/list tree); otherwise a GET.</summary>
    public object? PostData { get; init; }

    /// <summary>Extra request headers sent with each probe.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>The POST body as JSON text, or null for a GET probe.</summary>
    public string? PostDataJson() => PostData switch
    {
        null => null,
        string text => text,
        var tree => JsonSerializer.Serialize(tree),
    };

    /// <inheritdoc />
    public bool Equals(ReadinessProbeSpec? other) =>
        other is not null
        && Path == other.Path
        && InitialDelaySeconds == other.InitialDelaySeconds
        && TimeoutSeconds == other.TimeoutSeconds
        && EndpointProbeIntervalSeconds == other.EndpointProbeIntervalSeconds
        && ConsecutiveFailureThresholdTimeoutSeconds == other.ConsecutiveFailureThresholdTimeoutSeconds
        && LatencyThresholdMs == other.LatencyThresholdMs
        && SpecEquality.Deep(PostData, other.PostData)
        && SpecEquality.Maps(Headers, other.Headers);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Path, InitialDelaySeconds, TimeoutSeconds, SpecEquality.MapHash(Headers));
}
