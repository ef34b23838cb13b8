using System.Net;

namespace WrinkleFree.Service.LoadBalancing;

/// <summary>Settings of the service's load balancer; checked once by <see cref="Validate"/> when it starts.</summary>
public sealed record ServiceLoadBalancerOptions
{
    /// <summary>The service's name: the <c>service</c> label of the endpoint's metrics.</summary>
    public string ServiceName { get; init; } = "service";

    /// <summary>How long after the controller's last state push /metrics reports the controller down.</summary>
    public TimeSpan ControllerTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Listen address of the service endpoint.</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>Listen port of the service endpoint; 0 picks a free one (see <see cref="ServiceLoadBalancer.BaseUrl"/>).</summary>
    public int Port { get; init; }

    /// <summary>One of <see cref="LoadBalancingPolicyNames"/>.</summary>
    public string Policy { get; init; } = LoadBalancingPolicyNames.LeastRequests;

    /// <summary>Attempts per client request, each on a different replica, while no response byte has been sent.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>How long a request waits for a first ready replica while the service scales up from zero.</summary>
    public TimeSpan ScaleFromZeroWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Largest request body accepted; bodies are held in memory so a failed attempt can be replayed. The replicas' own
    /// default (8 MiB, WF_MAX_BODY_BYTES): a larger body is refused here with 413 rather than cut off by every replica.
    /// </summary>
    public long MaxRequestBodyBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Longest silence from a replica (before headers or between chunks) before the request fails (SkyServe's stream_timeout_seconds).</summary>
    public TimeSpan StreamTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Time allowed to open a connection to a replica.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a replica that failed at the transport level gets no new requests, unless the controller re-adds it sooner.</summary>
    public TimeSpan FailureCooldown { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The Retry-After a 503 advertises when no replica is ready.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>PEM certificate the endpoint serves HTTPS with (<c>service.tls.certfile</c>); null serves plain HTTP.</summary>
    public string? TlsCertFile { get; init; }

    /// <summary>PEM private key of <see cref="TlsCertFile"/> (<c>service.tls.keyfile</c>).</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>The service CA and client certificate for replicas served over mutual TLS; null when none are.</summary>
    public Tls.ReplicaClientTlsFiles? ReplicaTls { get; init; }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> when <paramref name="next"/> changes a setting fixed when a balancer bound to
    /// <paramref name="boundPort"/> with these options started: the listen address and port, body limit, connect timeout,
    /// failure cooldown.
    /// </summary>
    public void CheckFixed(ServiceLoadBalancerOptions next, int boundPort)
    {
        ArgumentNullException.ThrowIfNull(next);
        var changed = next.ListenAddress != ListenAddress ? nameof(ListenAddress)
            : next.Port != 0 && next.Port != boundPort ? nameof(Port)
            : next.MaxRequestBodyBytes != MaxRequestBodyBytes ? nameof(MaxRequestBodyBytes)
            : next.ConnectTimeout != ConnectTimeout ? nameof(ConnectTimeout)
            : next.FailureCooldown != FailureCooldown ? nameof(FailureCooldown)
            : next.TlsCertFile != TlsCertFile || next.TlsKeyFile != TlsKeyFile ? "service.tls (the files' content is reloaded; their paths are fixed)"
            : next.ReplicaTls != ReplicaTls ? nameof(ReplicaTls)
            : null;
        if (changed is not null)
        {
            throw new ArgumentException($"{changed} is fixed while the balancer runs; restart the service to change it", nameof(next));
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        if (!IPAddress.TryParse(ListenAddress, out _) && ListenAddress != "localhost")
        {
            throw new ArgumentException($"ListenAddress '{ListenAddress}' is not an IP address", nameof(ListenAddress));
        }

        Check(Port is >= 0 and <= 65535, nameof(Port), $"{Port} is not a port number");
        Check(LoadBalancingPolicyNames.IsKnown(Policy), nameof(Policy),
            $"'{Policy}' is not one of {string.Join(", ", LoadBalancingPolicyNames.All)}");
        Check(MaxAttempts is >= 1 and <= 16, nameof(MaxAttempts), $"{MaxAttempts} is outside 1..16");
        Check(ScaleFromZeroWait >= TimeSpan.Zero, nameof(ScaleFromZeroWait), "must not be negative");
        Check(MaxRequestBodyBytes is > 0 and <= int.MaxValue, nameof(MaxRequestBodyBytes), $"{MaxRequestBodyBytes} is outside 1..{int.MaxValue}");
        Check(StreamTimeout > TimeSpan.Zero, nameof(StreamTimeout), "must be positive");
        Check(ConnectTimeout > TimeSpan.Zero, nameof(ConnectTimeout), "must be positive");
        Check(FailureCooldown >= TimeSpan.Zero, nameof(FailureCooldown), "must not be negative");
        Check(TlsCertFile is null == TlsKeyFile is null, nameof(TlsCertFile), "HTTPS needs both a certificate and a key file");
        Check(RetryAfter >= TimeSpan.FromSeconds(1), nameof(RetryAfter), "must be at least one second (the header counts whole seconds)");
    }

    private static void Check(bool ok, string name, string problem)
    {
        if (!ok)
        {
            throw new ArgumentException($"{name}: {problem}", name);
        }
    }
}
