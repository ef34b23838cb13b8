using System.Security.Cryptography;
using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Tls;

/// <summary>
/// A spec that asks for HTTPS (<c>service.tls</c>) and cannot get it is refused by the plan (wf validate, wf up and the
/// daemon alike), naming the key and the file; <c>service.replica_tls</c> is read and written back.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TlsPlanTests : IDisposable
{
    private readonly TempDirectory _dir = new("wf-tls-plan-tests");
    private readonly TestCertificates _ca;

    public TlsPlanTests() => _ca = new TestCertificates(_dir.Path);

    [Fact]
    public void Plan_ValidPairWithRelativePaths_MakesThemAbsoluteAgainstTheSpecFolder()
    {
        var (_, key, _) = _ca.Server("endpoint");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var plan = Plan("service:\n  tls: {keyfile: endpoint.key, certfile: endpoint.crt}\n");

        Assert.Equal(Path.Combine(_dir.Path, "endpoint.crt"), plan.Spec.Service.Tls!.Certfile);
        Assert.Equal(Path.Combine(_dir.Path, "endpoint.key"), plan.Spec.Service.Tls.Keyfile);
        Assert.Empty(plan.Warnings);
    }

    [Fact]
    public void Plan_MissingCertfile_RefusedNamingTheKeyAndTheFile()
    {
        var (_, key, _) = _ca.Server("endpoint");
        var missing = Path.Combine(_dir.Path, "missing.crt");

        var e = Refused($"service:\n  tls: {{keyfile: {key}, certfile: {missing}}}\n");

        Assert.Equal("service.tls.certfile", e.KeyPath);
        Assert.Contains($"certfile '{missing}' does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_KeyOfAnotherCertificate_RefusedNamingTheKeyfile()
    {
        var (cert, _, _) = _ca.Server("endpoint");
        var other = Path.Combine(_dir.Path, "other.key");
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
            File.WriteAllText(other, key.ExportPkcs8PrivateKeyPem());

        var e = Refused($"service:\n  tls: {{keyfile: {other}, certfile: {cert}}}\n");

        Assert.Equal("service.tls.keyfile", e.KeyPath);
        Assert.Contains($"keyfile '{other}' is not the private key of certfile '{cert}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_ExpiredCertificate_RefusedSayingWhenItExpired()
    {
        var (cert, key, expired) = _ca.Server("old", DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddDays(-1));

        var e = Refused($"service:\n  tls: {{keyfile: {key}, certfile: {cert}}}\n");

        Assert.Equal("service.tls.certfile", e.KeyPath);
        Assert.Contains($"certfile '{cert}' expired at {expired.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_NotPem_RefusedNamingTheFile()
    {
        var (_, key, _) = _ca.Server("endpoint");
        var text = Path.Combine(_dir.Path, "notes.txt");
        File.WriteAllText(text, "this is not a certificate\n");

        var e = Refused($"service:\n  tls: {{keyfile: {key}, certfile: {text}}}\n");
        Assert.Contains($"certfile '{text}' is not a PEM certificate", e.Message, StringComparison.Ordinal);

        var (cert, _, _) = _ca.Server("endpoint2");
        var badKey = Refused($"service:\n  tls: {{keyfile: {text}, certfile: {cert}}}\n");
        Assert.Equal("service.tls.keyfile", badKey.KeyPath);
        Assert.Contains($"keyfile '{text}' is not a PEM private key", badKey.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_CertificateEndingSoon_Warns()
    {
        var (cert, key, _) = _ca.Server("soon", notAfter: DateTimeOffset.UtcNow.AddDays(3));

        var plan = Plan($"service:\n  tls: {{keyfile: {key}, certfile: {cert}}}\n");

        Assert.Contains(plan.Warnings, w => w.StartsWith("service.tls.certfile", StringComparison.Ordinal) && w.Contains("expires at", StringComparison.Ordinal));
    }

    [Fact]
    public void Plan_KeyReadableByOthers_Warns()
    {
        var (cert, key, _) = _ca.Server("open");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var plan = Plan($"service:\n  tls: {{keyfile: {key}, certfile: {cert}}}\n");

        Assert.Contains($"service.tls.keyfile: keyfile '{key}' can be read by other users of this machine; `chmod 600` it", plan.Warnings);
    }

    [Fact]
    public void Parse_ReplicaTls_ReadAndWrittenBack()
    {
        var spec = ServiceSpecParser.Parse("service:\n  replica_tls: true\n");
        Assert.True(spec.Service.ReplicaTls);
        Assert.True(ServiceSpecParser.Parse(spec.ToYaml()).Service.ReplicaTls);
        Assert.False(ServiceSpecParser.Parse("service:\n  replicas: 1\n").Service.ReplicaTls);

        var typo = Assert.Throws<ServiceSpecException>(() => ServiceSpecParser.Parse("service:\n  replica_tsl: true\n"));
        Assert.Contains("replica_tls", typo.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _dir.Dispose();
    }

    private ServicePlan Plan(string yaml) =>
        ServicePlan.Parse(yaml + "run: echo hi\n", Path.Combine(_dir.Path, "service.yaml"), new ServicePlanContext { SpecDirectory = _dir.Path, DefaultModelPath = "/m.gguf" });

    private ServiceSpecException Refused(string yaml) => Assert.Throws<ServiceSpecException>(() => Plan(yaml));
}
