using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace WrinkleFree.Service.Tests.Tls;

/// <summary>HTTP clients made by the tests (not by the code under test) that trust only a given CA and record what the server showed.</summary>
internal static class TlsClients
{
    /// <summary>A client on one new connection per request, trusting only <paramref name="ca"/>, presenting <paramref name="clientCertificate"/>.</summary>
    public static HttpClient Create(X509Certificate2 ca, X509Certificate2? clientCertificate, out Func<string?> servedThumbprint)
    {
        string? thumbprint = null;
        var handler = new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero };
        handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        handler.SslOptions.CertificateChainPolicy.CustomTrustStore.Add(ca);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            thumbprint = certificate?.GetCertHashString();
            return errors == SslPolicyErrors.None;
        };
        if (clientCertificate is not null)
            handler.SslOptions.ClientCertificates = [clientCertificate];
        servedThumbprint = () => thumbprint;
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }
}
