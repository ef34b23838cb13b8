namespace WrinkleFree.Service.Spec;

/// <summary>The <c>service.load_balancer</c> section: timeouts of the service endpoint.</summary>
public sealed record LoadBalancerSpec
{
    /// <summary>Longest a streaming response may stay idle before the load balancer gives up (SkyServe default 120 s).</summary>
    public int StreamTimeoutSeconds { get; init; } = 120;

    /// <summary>How long a request waits for the first ready replica while the service scales up from zero.</summary>
    public int ScaleFromZeroWaitSeconds { get; init; } = 60;

    /// <summary>
    /// Address the service endpoint listens on: 127.0.0.1 unless the spec opens it (0.0.0.0, a public or private address),
    /// as an endpoint behind an edge such as Cloudflare must be. Null: the daemon's default, 127.0.0.1.
    /// </summary>
    public string? Host { get; init; }

    /// <summary>Port of the service endpoint; null: the port the service had before, else a free one.</summary>
    public int? Port { get; init; }
}
