using System.Security.Cryptography;
using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// `wf up SPEC --dry-run` and `wf validate SPEC` with <c>service.tls</c>: a pair that cannot serve is refused (exit 2)
/// naming the key and the file, before anything starts; a good one is made absolute for the daemon.
/// </summary>
public sealed class TlsSpecCommandTests : IDisposable
{
    private static readonly MachineShape Ci = new(2, 7.5);
    private readonly TempDirectory _dir = new("wf-cli-tls-tests");
    private readonly TestCertificates _ca;
    private readonly InProcessConsole _console = new(machine: Ci);

    public TlsSpecCommandTests() => _ca = new TestCertificates(_dir.Path);

    [Fact]
    public async Task UpDryRun_TlsCertfileMissing_ExitTwoNamingTheFile()
    {
        _ca.Server("endpoint");
        var code = await _console.RunAsync("up", Spec("endpoint.key", "gone.crt"), "--dry-run");

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("service.tls.certfile", _console.Stderr, StringComparison.Ordinal);
        Assert.Contains($"certfile '{Path.Combine(_dir.Path, "gone.crt")}' does not exist", _console.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_console.Home, "daemon.json")));
    }

    [Fact]
    public async Task UpDryRun_TlsKeyOfAnotherCertificate_ExitTwoNamingTheKeyfile()
    {
        _ca.Server("endpoint");
        using (var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256))
            File.WriteAllText(Path.Combine(_dir.Path, "stranger.key"), stranger.ExportPkcs8PrivateKeyPem());

        var code = await _console.RunAsync("up", Spec("stranger.key", "endpoint.crt"), "--dry-run");

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("service.tls.keyfile", _console.Stderr, StringComparison.Ordinal);
        Assert.Contains($"keyfile '{Path.Combine(_dir.Path, "stranger.key")}' is not the private key of certfile", _console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_TlsCertificateExpired_ExitTwoSayingItExpired()
    {
        _ca.Server("old", DateTimeOffset.UtcNow.AddDays(-9), DateTimeOffset.UtcNow.AddDays(-1));

        var code = await _console.RunAsync("validate", Spec("old.key", "old.crt"));

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains($"certfile '{Path.Combine(_dir.Path, "old.crt")}' expired at", _console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_TlsPairGood_Valid()
    {
        _ca.Server("endpoint");

        var code = await _console.RunAsync("validate", Spec("endpoint.key", "endpoint.crt"));

        Assert.True(code == ExitCodes.Success, _console.Stderr);
    }

    public void Dispose()
    {
        _console.Dispose();
        _ca.Dispose();
        _dir.Dispose();
    }

    private string Spec(string keyfile, string certfile)
    {
        var path = Path.Combine(_dir.Path, "svc.yaml");
        File.WriteAllText(path, $"service:\n  tls: {{keyfile: {keyfile}, certfile: {certfile}}}\nrun: exec wf replica --model /m.gguf\n");
        return path;
    }
}
