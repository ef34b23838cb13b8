using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace WrinkleFree.Platform.Tls;

/// <summary>A certificate with its private key and the intermediates served after it, with the context SslStream reuses.</summary>
public sealed class LoadedCertificate
{
    private readonly Lazy<SslStreamCertificateContext> _context;

    public LoadedCertificate(X509Certificate2 certificate, X509Certificate2Collection intermediates)
    {
        Certificate = certificate;
        Intermediates = intermediates;
        // Built once per certificate, not per handshake: it holds the chain SslStream sends.
        _context = new Lazy<SslStreamCertificateContext>(() => SslStreamCertificateContext.Create(certificate, intermediates, offline: true));
    }

    /// <summary>The leaf certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>What the certificate file held after the leaf.</summary>
    public X509Certificate2Collection Intermediates { get; }

    /// <summary>The server-side context for <see cref="SslServerAuthenticationOptions.ServerCertificateContext"/>.</summary>
    public SslStreamCertificateContext Context => _context.Value;
}
