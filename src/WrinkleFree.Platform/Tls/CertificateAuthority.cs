using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using WrinkleFree.Platform.Files;
using WrinkleFree.Platform.Home;

namespace WrinkleFree.Platform.Tls;

/// <summary>
/// A private certificate authority (ECDSA P-256) that signs short-lived certificates for the two ends of a private link:
/// servers get their addresses as subject alternative names (IP names for IPs), clients get the client-auth usage.
/// Written by hand because .NET has the parts (<see cref="CertificateRequest"/>) but no CA; keys are written owner-only.
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    // Certificates start a little in the past so a peer whose clock is slightly behind accepts them.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private CertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    /// <summary>The CA certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>A new CA named <paramref name="name"/>, valid for <paramref name="lifetime"/> from <paramref name="now"/>.</summary>
    public static CertificateAuthority Create(string name, DateTimeOffset now, TimeSpan lifetime)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(name)}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return new CertificateAuthority(request.CreateSelfSigned(now - ClockSkew, now + lifetime));
    }

    /// <summary>Loads a CA written by <see cref="Save"/>; throws <see cref="TlsFileException"/> naming a file that cannot be used.</summary>
    public static CertificateAuthority Load(string certFile, string keyFile, DateTimeOffset now) =>
        new(PemCertificate.Load(certFile, keyFile, now).Certificate);

    /// <summary>Writes the CA's certificate and (owner-only) key.</summary>
    public void Save(string certFile, string keyFile) => WritePair(Certificate, certFile, keyFile);

    /// <summary>
    /// Signs a certificate for <paramref name="names"/> (IP addresses or DNS names) valid from <paramref name="now"/> for
    /// <paramref name="lifetime"/>, never past the CA's own end.
    /// </summary>
    public X509Certificate2 Issue(string subject, IReadOnlyCollection<string> names, CertificateUse use, DateTimeOffset now, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(names);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(subject)}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var usages = new OidCollection();
        if (use.HasFlag(CertificateUse.Server))
            usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        if (use.HasFlag(CertificateUse.Client))
            usages.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        if (names.Count > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var name in names)
            {
                if (IPAddress.TryParse(name.Trim('[', ']'), out var ip))
                    san.AddIpAddress(ip);
                else
                    san.AddDnsName(name);
            }

            request.CertificateExtensions.Add(san.Build());
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        var notBefore = Max(now - ClockSkew, new DateTimeOffset(Certificate.NotBefore.ToUniversalTime()));
        var notAfter = Min(now + lifetime, new DateTimeOffset(Certificate.NotAfter.ToUniversalTime()));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        using var issued = request.Create(Certificate, notBefore, notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes <paramref name="certificate"/> to <paramref name="certFile"/> and its key, owner-only, to <paramref name="keyFile"/>.</summary>
    /// <remarks>Each file is replaced at once; a reader that catches the new key beside the old certificate sees a pair
    /// that does not match and keeps what it has (see <see cref="ReloadingCertificate"/>).</remarks>
    public static void WritePair(X509Certificate2 certificate, string certFile, string keyFile)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("the certificate has no ECDSA private key", nameof(certificate));
        AtomicFile.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem() + "\n", WfHome.PrivateFileMode);
        AtomicFile.WriteAllText(certFile, certificate.ExportCertificatePem() + "\n", WfHome.PrivateFileMode);
    }

    public void Dispose() => Certificate.Dispose();

    private static string Escape(string name) => name.Replace("\"", "", StringComparison.Ordinal).Replace(",", " ", StringComparison.Ordinal).Replace("=", " ", StringComparison.Ordinal);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
