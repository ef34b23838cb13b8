namespace WrinkleFree.Service.Spec;

/// <summary>SkyServe's <c>service.tls</c>: the certificate the load balancer serves HTTPS with.</summary>
public sealed record TlsSpec
{
    /// <summary>Path of the PEM private key.</summary>
    public required string Keyfile { get; init; }

    /// <summary>Path of the PEM certificate chain.</summary>
    public required string Certfile { get; init; }
}
