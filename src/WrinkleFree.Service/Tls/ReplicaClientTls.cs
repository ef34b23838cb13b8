using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Tls;

namespace WrinkleFree.Service.Tls;

/// <summary>
/// The client side of mutual TLS to replicas, for the load balancer's forwarding handler and the controller's prober:
/// present the service's client certificate (reloaded when rotated: a new connection takes the new one, open ones keep
/// theirs) and accept a replica's certificate only when it chains to the service's CA, never the system store.
/// Replicas reached over plain http are unaffected.
/// </summary>
internal static class ReplicaClientTls
{
    /// <summary>Sets <paramref name="handler"/> up for <paramref name="files"/>; null leaves it as it is.</summary>
    public static void Configure(SocketsHttpHandler handler, ReplicaClientTlsFiles? files, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (files is null)
            return;
        var ca = PemCertificate.LoadCertificate(files.CaFile, "service CA");
        var certificate = ServerTls.Load(files.CertFile, files.KeyFile, "replica client", time, logger);
        MutualTls.ConfigureClient(handler.SslOptions, certificate, ca);
    }
}
