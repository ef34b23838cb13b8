using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace WrinkleFree.Platform.Tls;

/// <summary>
/// The TLS settings of both ends of a private link: a server that serves a <see cref="ReloadingCertificate"/> and, given a
/// CA, accepts only clients whose certificate chains to that CA; and a client that presents its own reloading
/// certificate and trusts only that CA for the server's (never the system store).
/// </summary>
public static class MutualTls
{
    /// <summary>The options for one server handshake; null <paramref name="clientCa"/> asks for no client certificate.</summary>
    public static SslServerAuthenticationOptions ServerOptions(ReloadingCertificate certificate, X509Certificate2? clientCa)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var options = new SslServerAuthenticationOptions { ServerCertificateContext = certificate.Current.Context };
        if (clientCa is not null)
        {
            options.ClientCertificateRequired = true;
            options.CertificateChainPolicy = TrustOnly(clientCa);
            // With the custom chain policy, None means: a certificate was sent and it chains to the CA.
            options.RemoteCertificateValidationCallback = (_, presented, _, errors) => presented is not null && errors == SslPolicyErrors.None;
        }

        return options;
    }

    /// <summary>Sets <paramref name="options"/> to present <paramref name="clientCertificate"/> and trust only <paramref name="ca"/>.</summary>
    public static void ConfigureClient(SslClientAuthenticationOptions options, ReloadingCertificate? clientCertificate, X509Certificate2 ca)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ca);
        options.CertificateChainPolicy = TrustOnly(ca);
        // The CA is the service's own and signs nothing but its replicas, so a certificate that chains to it is one of them
        // whatever name it carries: a cloud instance's certificate names the instance, since its address is known only
        // after it boots, while the balancer dials the address. The chain itself must hold.
        options.RemoteCertificateValidationCallback = (_, _, _, errors) => (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None;
        if (clientCertificate is not null)
        {
            // Asked per connection, so a rotated certificate is used by the next connection while open ones keep theirs.
            options.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate.Current.Certificate;
        }
    }

    /// <summary>A chain policy whose only trust anchor is <paramref name="ca"/> (a private CA has no revocation list).</summary>
    public static X509ChainPolicy TrustOnly(X509Certificate2 ca)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.Add(ca);
        return policy;
    }
}
