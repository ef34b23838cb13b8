using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Home;
using WrinkleFree.Platform.Tls;

namespace WrinkleFree.Service.Tls;

/// <summary>
/// One service's private CA and the certificates it issues, in <c>$WF_HOME/pki/SERVICE/</c> (folder 0700, every file
/// 0600): ca.crt/ca.key, client.crt/client.key for the load balancer and the prober, replica-N.crt/.key per replica.
/// Issued certificates live for <see cref="Lifetime"/> (days) and are re-issued in place at two thirds of it
/// (<see cref="RotateDue"/>); the files' readers reload them for new connections, so no request fails.
/// </summary>
public sealed class ServicePki : IReplicaCertificateIssuer, IDisposable
{
    /// <summary>How long issued certificates live by default.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(7);

    private static readonly TimeSpan CaLifetime = TimeSpan.FromDays(3650);

    private readonly string _service;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CertificateAuthority _ca;
    private readonly Lock _issueGate = new();

    // Issued files by certificate path: what to re-issue them with, and when.
    private readonly ConcurrentDictionary<string, Issued> _issued = new(StringComparer.Ordinal);

    private ServicePki(string folder, string service, TimeProvider time, ILogger logger, CertificateAuthority ca, TimeSpan lifetime)
    {
        (Folder, _service, _time, _logger, _ca, Lifetime) = (folder, service, time, logger, ca, lifetime);
        CaFile = Path.Combine(folder, "ca.crt");
    }

    /// <summary>The service's PKI folder.</summary>
    public string Folder { get; }

    /// <summary>The CA certificate every party trusts (and only it).</summary>
    public string CaFile { get; }

    /// <summary>How long each issued certificate lives.</summary>
    public TimeSpan Lifetime { get; }

    /// <summary>The load balancer's and prober's client identity.</summary>
    public ReplicaClientTlsFiles ClientFiles => new() { CaFile = CaFile, CertFile = Path.Combine(Folder, "client.crt"), KeyFile = Path.Combine(Folder, "client.key") };

    /// <summary>
    /// Opens the service's CA under <paramref name="root"/> (creating it, and the client certificate, when missing or no
    /// longer usable) and takes over the certificates already issued there, so a restarted daemon rotates them too.
    /// </summary>
    public static ServicePki OpenOrCreate(string root, string service, TimeProvider time, ILogger logger, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        WfHome.CreatePrivateDirectory(root);
        var folder = WfHome.CreatePrivateDirectory(Path.Combine(root, service));
        var caCert = Path.Combine(folder, "ca.crt");
        var caKey = Path.Combine(folder, "ca.key");
        var now = time.GetUtcNow();
        CertificateAuthority ca;
        try
        {
            ca = CertificateAuthority.Load(caCert, caKey, now);
            if (ca.Certificate.NotAfter.ToUniversalTime() - now.UtcDateTime < TimeSpan.FromDays(30))
                throw new TlsFileException("the CA ends within 30 days");
        }
        catch (TlsFileException)
        {
            ca = CertificateAuthority.Create($"wf {service} CA", now, CaLifetime);
            ca.Save(caCert, caKey);
            Log.AuthorityCreated(logger, service, folder);
        }

        var pki = new ServicePki(folder, service, time, logger, ca, lifetime ?? DefaultLifetime);
        pki.Adopt();
        var client = pki.ClientFiles;
        if (!pki._issued.ContainsKey(client.CertFile))
            pki.IssueTo(client.CertFile, client.KeyFile, "wf load balancer", [], CertificateUse.Client);
        return pki;
    }

    /// <inheritdoc />
    public ReplicaCertificateFiles Issue(int replicaId, string host)
    {
        var name = "replica-" + replicaId.ToString(CultureInfo.InvariantCulture);
        var files = new ReplicaCertificateFiles(Path.Combine(Folder, name + ".crt"), Path.Combine(Folder, name + ".key"), CaFile);
        IssueTo(files.CertFile, files.KeyFile, $"wf {_service} {name}", [host], CertificateUse.Server);
        return files;
    }

    /// <summary>Re-issues every certificate past two thirds of its lifetime; returns how many.</summary>
    public int RotateDue() => Rotate(all: false);

    /// <summary>Re-issues every certificate now ("rotate now"), whatever its age; returns how many.</summary>
    public int RotateAll() => Rotate(all: true);

    /// <summary>Deletes a terminated replica's certificate and key.</summary>
    public void Forget(int replicaId)
    {
        var cert = Path.Combine(Folder, "replica-" + replicaId.ToString(CultureInfo.InvariantCulture) + ".crt");
        _issued.TryRemove(cert, out _);
        File.Delete(cert);
        File.Delete(Path.ChangeExtension(cert, ".key"));
    }

    public void Dispose() => _ca.Dispose();

    private int Rotate(bool all)
    {
        var now = _time.GetUtcNow();
        var count = 0;
        foreach (var (certFile, issued) in _issued)
        {
            if (!all && now < issued.RotateAt)
                continue;
            try
            {
                var next = IssueTo(certFile, issued.KeyFile, issued.Subject, issued.Names, issued.Use);
                Log.CertificateRotated(_logger, _service, certFile, next.UtcDateTime);
                count++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                Log.RotationFailed(_logger, _service, certFile, e.Message);
            }
        }

        return count;
    }

    /// <summary>Issues and writes one certificate; returns its end.</summary>
    private DateTimeOffset IssueTo(string certFile, string keyFile, string subject, IReadOnlyList<string> names, CertificateUse use)
    {
        lock (_issueGate)
        {
            var now = _time.GetUtcNow();
            using var certificate = _ca.Issue(subject, names, use, now, Lifetime);
            CertificateAuthority.WritePair(certificate, certFile, keyFile);
            var end = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
            _issued[certFile] = new Issued(keyFile, subject, names, use, now + (end - now) * 2 / 3);
            return end;
        }
    }

    /// <summary>Takes over the certificates this CA issued before (a daemon restart), rotation times from their own dates.</summary>
    private void Adopt()
    {
        foreach (var certFile in Directory.EnumerateFiles(Folder, "*.crt"))
        {
            if (certFile == CaFile)
                continue;
            try
            {
                using var certificate = X509CertificateLoader.LoadCertificateFromFile(certFile);
                if (certificate.Issuer != _ca.Certificate.Subject || !File.Exists(Path.ChangeExtension(certFile, ".key")))
                    continue;
                var names = new List<string>();
                if (certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault() is { } san)
                {
                    names.AddRange(san.EnumerateIPAddresses().Select(ip => ip.ToString()));
                    names.AddRange(san.EnumerateDnsNames());
                }

                var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault()?.EnhancedKeyUsages;
                var use = CertificateUse.None;
                foreach (var oid in usages ?? [])
                    use |= oid.Value == "1.3.6.1.5.5.7.3.1" ? CertificateUse.Server : oid.Value == "1.3.6.1.5.5.7.3.2" ? CertificateUse.Client : CertificateUse.None;
                var start = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
                var end = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
                _issued[certFile] = new Issued(Path.ChangeExtension(certFile, ".key"), certificate.GetNameInfo(X509NameType.SimpleName, false), names, use, start + (end - start) * 2 / 3);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // Not a certificate of ours: left alone.
            }
        }
    }

    private sealed record Issued(string KeyFile, string Subject, IReadOnlyList<string> Names, CertificateUse Use, DateTimeOffset RotateAt);
}
