using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WrinkleFree.Testing;

/// <summary>
/// Certificates made by the tests themselves with <see cref="CertificateRequest"/> (not by the code under test): a CA,
/// server and client certificates it signs, self-signed ones, expired ones, all written as PEM files.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestCertificates(string folder, string name = "wf test CA")
    {
        Folder = folder;
        var request = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddYears(1));
        CaFile = Path.Combine(folder, $"{Sanitize(name)}.crt");
        File.WriteAllText(CaFile, Ca.ExportCertificatePem());
    }

    public string Folder { get; }

    /// <summary>The CA certificate, with its key.</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>The CA certificate as a PEM file.</summary>
    public string CaFile { get; }

    /// <summary>The CA without its key, for a client's custom trust store.</summary>
    public X509Certificate2 CaPublic => X509CertificateLoader.LoadCertificate(Ca.RawData);

    /// <summary>A server certificate for 127.0.0.1 and localhost, written as NAME.crt and NAME.key.</summary>
    public (string CertFile, string KeyFile, X509Certificate2 Certificate) Server(string name, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null) =>
        Issue(name, server: true, notBefore, notAfter);

    /// <summary>A client certificate, written as NAME.crt and NAME.key.</summary>
    public (string CertFile, string KeyFile, X509Certificate2 Certificate) Client(string name) => Issue(name, server: false, null, null);

    /// <summary>Writes a pair signed by this CA into the given files (replacing them), as a rotation or reload does.</summary>
    public X509Certificate2 WriteServer(string certFile, string keyFile, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + Path.GetFileNameWithoutExtension(certFile), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        var from = notBefore ?? DateTimeOffset.UtcNow.AddDays(-1);
        var to = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        using var signed = request.Create(Ca, from, to, serial);
        var withKey = signed.CopyWithPrivateKey(key);
        // Written beside and renamed over, so a reader sees an old or a new file, never half of one.
        Replace(keyFile, key.ExportPkcs8PrivateKeyPem());
        Replace(certFile, withKey.ExportCertificatePem());
        return withKey;
    }

    /// <summary>A self-signed certificate (no CA) with its key, for a client or server nobody trusts.</summary>
    public static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    public void Dispose()
    {
        Ca.Dispose();
        _caKey.Dispose();
    }

    private (string, string, X509Certificate2) Issue(string name, bool server, DateTimeOffset? notBefore, DateTimeOffset? notAfter)
    {
        var certFile = Path.Combine(Folder, name + ".crt");
        var keyFile = Path.Combine(Folder, name + ".key");
        if (server)
        {
            return (certFile, keyFile, WriteServer(certFile, keyFile, notBefore, notAfter));
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var signed = request.Create(Ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), serial);
        var withKey = signed.CopyWithPrivateKey(key);
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certFile, withKey.ExportCertificatePem());
        return (certFile, keyFile, withKey);
    }

    private static void Replace(string path, string text)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    private static string Sanitize(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-'));
}
