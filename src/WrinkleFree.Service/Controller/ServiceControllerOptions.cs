using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Controller;

/// <summary>Settings of one <see cref="ServiceController"/> that do not come from the service spec.</summary>
public sealed record ServiceControllerOptions
{
    /// <summary>Address the service endpoint listens on.</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>Port of the service endpoint; 0 picks a free one (the port stored for the service is tried first).</summary>
    public int Port { get; init; }

    /// <summary>Time between reconcile ticks; null uses the spec's endpoint_probe_interval_seconds.</summary>
    public TimeSpan? TickInterval { get; init; }

    /// <summary>Longest a replica being scaled down may keep serving its in-flight requests (SkyServe drains 120 s).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Variables added to every replica's environment under the spec's envs (the daemon puts `wf` on PATH).</summary>
    public IReadOnlyDictionary<string, string> ExtraEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>Working directory of replica commands when the spec has no <c>workdir:</c>; null inherits the controller's.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// Starts (or adopts) the service's endpoint in a process of its own, given the service name, the balancer options
    /// and whether another port may replace the wanted one; null runs the balancer inside the controller's process.
    /// </summary>
    public Func<string, LoadBalancing.ServiceLoadBalancerOptions, bool, CancellationToken, Task<LoadBalancing.IServiceEndpoint>>? EndpointFactory { get; init; }
    /// <summary>The API keys the in-process endpoint enforces from its first request (the daemon gives the endpoint
    /// process its keys through <see cref="EndpointFactory"/>); later changes go through <see cref="ServiceController.SetAuthAsync"/>.</summary>
    public Security.EndpointAuth Auth { get; init; } = Security.EndpointAuth.Open;

    /// <summary>MODEL_PATH of a <c>wf replica</c> whose spec sets none (see <see cref="ServicePlan"/>); null for none.</summary>
    public string? DefaultModelPath { get; init; }

    /// <summary>
    /// Where each service's private CA lives (<c>$WF_HOME/pki</c>): with it, replicas can serve mutual TLS
    /// (<c>service.replica_tls</c>, and every replica on another machine); null for none.
    /// </summary>
    public string? PkiFolder { get; init; }

    /// <summary>How long replica and client certificates live; they are re-issued at two thirds of it.</summary>
    public TimeSpan CertificateLifetime { get; init; } = Tls.ServicePki.DefaultLifetime;

    /// <summary>The machine local tiers run on: resources.cpus and memory are fitted to it.</summary>
    public MachineShape Machine { get; init; } = MachineShape.Current;

    /// <summary>How long a spot or cloud tier that failed to provision twice in a row gets no launches (its zones are out of capacity).</summary>
    public TimeSpan SpotCapacityCooldown { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the replicas' token counters are read for <c>wf cost</c> (and before each replica is stopped).</summary>
    public TimeSpan UsageScrapeInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting; returns this for chaining.</summary>
    public ServiceControllerOptions Validate()
    {
        if (Port is < 0 or > 65535)
            throw new ArgumentException($"port must be 0..65535, got {Port}", nameof(Port));
        if (TickInterval is { } tick && tick <= TimeSpan.Zero)
            throw new ArgumentException($"tick interval must be > 0, got {tick}", nameof(TickInterval));
        if (SpotCapacityCooldown < TimeSpan.Zero)
            throw new ArgumentException($"spot capacity cooldown must be >= 0, got {SpotCapacityCooldown}", nameof(SpotCapacityCooldown));
        if (UsageScrapeInterval <= TimeSpan.Zero)
            throw new ArgumentException($"usage scrape interval must be > 0, got {UsageScrapeInterval}", nameof(UsageScrapeInterval));
        if (DrainTimeout < TimeSpan.Zero)
            throw new ArgumentException($"drain timeout must be >= 0, got {DrainTimeout}", nameof(DrainTimeout));
        return this;
    }
}
