namespace WrinkleFree.Service.Spec;

/// <summary>The <c>service:</c> section: probing, autoscaling and the load balancer of one service.</summary>
public sealed record ServiceSection
{
    /// <summary>How replicas are probed for readiness.</summary>
    public ReadinessProbeSpec ReadinessProbe { get; init; } = new();

    /// <summary>Autoscaling bounds and signals; <c>replicas: N</c> is read as min N with no max.</summary>
    public ReplicaPolicySpec ReplicaPolicy { get; init; } = new() { MinReplicas = 1 };

    /// <summary>How requests are spread over ready replicas.</summary>
    public LoadBalancingPolicy LoadBalancingPolicy { get; init; } = LoadBalancingPolicy.LeastLoad;

    /// <summary>Timeouts of the service endpoint.</summary>
    public LoadBalancerSpec LoadBalancer { get; init; } = new();

    /// <summary>Port the replicas serve on (SkyServe's <c>service.ports</c>); null when the provider chooses.</summary>
    public int? Ports { get; init; }

    /// <summary>Backoff and give-up rules for replicas that keep failing.</summary>
    public FailurePolicySpec FailurePolicy { get; init; } = new();

    /// <summary>HTTPS for the service endpoint; null for plain HTTP.</summary>
    public TlsSpec? Tls { get; init; }

    /// <summary>
    /// Mutual TLS between the load balancer and local replicas too (<c>service.replica_tls</c>); replicas on other
    /// machines always get it.
    /// </summary>
    public bool ReplicaTls { get; init; }
}
