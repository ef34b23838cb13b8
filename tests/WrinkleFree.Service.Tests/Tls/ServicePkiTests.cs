using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Tls;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Tls;

/// <summary>
/// The per-service CA under the home: owner-only files, a real CA certificate, replica certificates naming the address,
/// and rotation at two thirds of a certificate's life, decided on a fake clock.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ServicePkiTests : IDisposable
{
    private readonly TempDirectory _dir = new("wf-pki-tests");

    [Fact]
    public void OpenOrCreate_NewService_WritesAnOwnerOnlyCaAndClientCertificate()
    {
        var root = Path.Combine(_dir.Path, "pki");
        using var pki = ServicePki.OpenOrCreate(root, "svc", TimeProvider.System, NullLogger.Instance);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(pki.Folder));
        foreach (var file in Directory.EnumerateFiles(pki.Folder))
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        using var ca = X509CertificateLoader.LoadCertificateFromFile(pki.CaFile);
        var constraints = ca.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(constraints.CertificateAuthority);
        Assert.True(ca.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign));
        using (var ecdsa = ca.GetECDsaPublicKey())
            Assert.Equal(256, ecdsa!.KeySize);

        using var client = X509CertificateLoader.LoadCertificateFromFile(pki.ClientFiles.CertFile);
        Assert.True(Chains(client, ca));
    }

    [Fact]
    public void Issue_Replica_CertificateNamesItsAddressAndChainsToTheServiceCaOnly()
    {
        using var pki = ServicePki.OpenOrCreate(Path.Combine(_dir.Path, "pki"), "svc", TimeProvider.System, NullLogger.Instance);
        using var other = ServicePki.OpenOrCreate(Path.Combine(_dir.Path, "pki"), "other", TimeProvider.System, NullLogger.Instance);

        var files = pki.Issue(3, "127.0.0.1");

        Assert.Equal(pki.CaFile, files.ClientCaFile);
        using var replica = X509CertificateLoader.LoadCertificateFromFile(files.CertFile);
        var san = replica.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["127.0.0.1"], san.EnumerateIPAddresses().Select(ip => ip.ToString()));
        using var ca = X509CertificateLoader.LoadCertificateFromFile(pki.CaFile);
        using var otherCa = X509CertificateLoader.LoadCertificateFromFile(other.CaFile);
        Assert.True(Chains(replica, ca));
        Assert.False(Chains(replica, otherCa));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(files.KeyFile));
    }

    [Fact]
    public void RotateDue_FakeClock_ReissuesOnlyAfterTwoThirdsOfTheLifetime()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lifetime = TimeSpan.FromDays(3);
        using var pki = ServicePki.OpenOrCreate(Path.Combine(_dir.Path, "pki"), "svc", clock, NullLogger.Instance, lifetime);
        var files = pki.Issue(1, "127.0.0.1");
        var first = File.ReadAllText(files.CertFile);

        clock.Advance(TimeSpan.FromDays(1.9));
        Assert.Equal(0, pki.RotateDue());
        Assert.Equal(first, File.ReadAllText(files.CertFile));

        clock.Advance(TimeSpan.FromDays(0.2));
        Assert.Equal(2, pki.RotateDue()); // the replica's and the balancer's client certificate
        var second = File.ReadAllText(files.CertFile);
        Assert.NotEqual(first, second);
        using var rotated = X509Certificate2.CreateFromPem(second);
        Assert.Equal(["127.0.0.1"], rotated.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateIPAddresses().Select(ip => ip.ToString()));
        Assert.Equal(0, pki.RotateDue());

        // A restarted daemon takes the issued certificates over and rotates them on their own dates.
        using var reopened = ServicePki.OpenOrCreate(Path.Combine(_dir.Path, "pki"), "svc", clock, NullLogger.Instance, lifetime);
        Assert.Equal(File.ReadAllText(pki.CaFile), File.ReadAllText(reopened.CaFile));
        Assert.Equal(0, reopened.RotateDue());
        clock.Advance(TimeSpan.FromDays(2.1));
        Assert.Equal(2, reopened.RotateDue());
    }

    public void Dispose() => _dir.Dispose();

    private static bool Chains(X509Certificate2 certificate, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy = Platform.Tls.MutualTls.TrustOnly(ca);
        return chain.Build(certificate);
    }
}
