namespace WrinkleFree.Service.Tls;

/// <summary>
/// What the load balancer and the prober need to reach replicas over mutual TLS: the service's CA (the only trust anchor
/// for a replica's certificate) and their own client certificate signed by it (reloaded when the files change).
/// </summary>
public sealed record ReplicaClientTlsFiles
{
    /// <summary>The service CA's certificate (PEM).</summary>
    public required string CaFile { get; init; }

    /// <summary>The client certificate (PEM).</summary>
    public required string CertFile { get; init; }

    /// <summary>The client certificate's private key (PEM, owner-only).</summary>
    public required string KeyFile { get; init; }
}
