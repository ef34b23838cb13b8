using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Platform.Tls;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Tls;

/// <summary>
/// <see cref="ReloadingCertificate"/> on a fake clock: a changed pair is loaded once it has stayed unchanged for the
/// debounce; a broken new pair keeps the old one serving and is reported once, naming the file.
/// </summary>
public sealed class ReloadingCertificateTests : IDisposable
{
    private readonly TempDirectory _dir = new("wf-reload-tests");
    private readonly TestCertificates _ca;

    public ReloadingCertificateTests() => _ca = new TestCertificates(_dir.Path);

    [Fact]
    public void Current_FilesChanged_LoadedOnlyAfterTheyStayUnchangedForTheDebounce()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (cert, key, first) = _ca.Server("pair");
        var reloading = new ReloadingCertificate(cert, key, clock);
        var second = _ca.WriteServer(cert, key);

        clock.Advance(ReloadingCertificate.CheckInterval);
        Assert.Equal(first.Thumbprint, reloading.Current.Certificate.Thumbprint);  // the change is seen, not yet loaded
        clock.Advance(ReloadingCertificate.Debounce);
        Assert.Equal(second.Thumbprint, reloading.Current.Certificate.Thumbprint);
    }

    [Fact]
    public void Current_BrokenNewPair_KeepsTheOldCertificateAndReportsTheFileOnce()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (cert, key, first) = _ca.Server("pair");
        var errors = new List<string>();
        var reloading = new ReloadingCertificate(cert, key, clock, errors.Add);
        using (var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256))
            File.WriteAllText(key, stranger.ExportPkcs8PrivateKeyPem());
        File.SetLastWriteTimeUtc(key, DateTime.UtcNow.AddMinutes(1));

        for (var i = 0; i < 10; i++)
        {
            clock.Advance(ReloadingCertificate.Debounce);
            Assert.Equal(first.Thumbprint, reloading.Current.Certificate.Thumbprint);
        }

        var error = Assert.Single(errors);
        Assert.Contains($"keyfile '{key}' is not the private key of certfile '{cert}'", error, StringComparison.Ordinal);

        // Fixed files are loaded at the next change.
        var fixedPair = _ca.WriteServer(cert, key);
        File.SetLastWriteTimeUtc(key, DateTime.UtcNow.AddMinutes(2));
        Assert.True(reloading.ReloadNow());
        Assert.Equal(fixedPair.Thumbprint, reloading.Current.Certificate.Thumbprint);
    }

    [Fact]
    public void Constructor_ExpiredCertificate_RefusedNamingTheFile()
    {
        var (cert, key, _) = _ca.Server("old", DateTimeOffset.UtcNow.AddDays(-9), DateTimeOffset.UtcNow.AddDays(-1));
        var e = Assert.Throws<TlsFileException>(() => new ReloadingCertificate(cert, key, TimeProvider.System));
        Assert.Equal(cert, e.FilePath);
        Assert.Contains("expired", e.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _dir.Dispose();
    }
}
