using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using WrinkleFree.Testing;

namespace WrinkleFree.Replica.Tests.Tls;

/// <summary>A real replica serving HTTPS from PEM files made by the test, with and without client certificates (mTLS).</summary>
public sealed class ReplicaTlsTests : IDisposable
{
    private readonly TempDirectory _dir = new("wf-replica-tls-tests");
    private readonly TestCertificates _ca;

    public ReplicaTlsTests() => _ca = new TestCertificates(_dir.Path);

    [Fact]
    public async Task Replica_WithCertificate_ServesHttpsToAClientTrustingTheCa()
    {
        var (cert, key, _) = _ca.Server("replica");
        await using var host = await TestReplica.StartAsync(o => o with { TlsCertFile = cert, TlsKeyFile = key }, waitReady: false);
        Assert.Equal("https", host.Address.Scheme);
        Assert.Equal("127.0.0.1", host.Address.Host);
        using var client = Client(_ca.CaPublic, clientCertificate: null, out _);
        using var response = await client.GetAsync(new Uri(host.Address, "/health")).WaitAsync(TestReplica.Timeout);
        Assert.NotEqual(0, (int)response.StatusCode);

        // The warm-up reached its own HTTPS listener (a certificate for "replica", not 127.0.0.1) and was answered.
        await host.WaitUntilReadyAsync(CancellationToken.None).WaitAsync(TestReplica.Timeout);
        Assert.Equal("ok", host.WarmUpOutcome);
    }

    [Fact]
    public async Task Replica_WithClientCa_RefusesClientWithoutCertificate()
    {
        await using var host = await StartMutualAsync();
        using var client = Client(_ca.CaPublic, clientCertificate: null, out _);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync(new Uri(host.Address, "/health")).WaitAsync(TestReplica.Timeout));
    }

    [Fact]
    public async Task Replica_WithClientCa_RefusesCertificateFromAnotherCa()
    {
        await using var host = await StartMutualAsync();
        using var otherFolder = new TempDirectory("wf-replica-tls-tests");
        using var other = new TestCertificates(otherFolder.Path, "another CA");
        var (_, _, stranger) = other.Client("stranger");
        using var fromOther = Client(_ca.CaPublic, stranger, out _);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => fromOther.GetAsync(new Uri(host.Address, "/health")).WaitAsync(TestReplica.Timeout));

        using var selfSigned = Client(_ca.CaPublic, TestCertificates.SelfSigned("self"), out _);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => selfSigned.GetAsync(new Uri(host.Address, "/health")).WaitAsync(TestReplica.Timeout));
    }

    [Fact]
    public async Task Replica_WithClientCa_ServesAClientWithACertificateFromTheCa()
    {
        await using var host = await StartMutualAsync();
        await host.WaitUntilReadyAsync(CancellationToken.None).WaitAsync(TestReplica.Timeout);
        // No client certificate to present to itself: the warm-up ran the same requests in process.
        Assert.Equal("ok", host.WarmUpOutcome);
        var (_, _, balancer) = _ca.Client("balancer");
        using var client = Client(_ca.CaPublic, balancer, out _);
        using var response = await client.GetAsync(new Uri(host.Address, "/v1/models")).WaitAsync(TestReplica.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(TestReplica.ModelId, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replica_CertificateFilesReplaced_NewConnectionsGetTheNewCertificateWithoutRestart()
    {
        var (cert, key, first) = _ca.Server("reloaded");
        await using var host = await TestReplica.StartAsync(o => o with { TlsCertFile = cert, TlsKeyFile = key }, waitReady: false);
        Assert.Equal(first.Thumbprint, await ServedThumbprintAsync(host.Address));

        var second = _ca.WriteServer(cert, key);
        var deadline = DateTime.UtcNow + TestReplica.Timeout;
        string? seen;
        do
        {
            seen = await ServedThumbprintAsync(host.Address);
        }
        while (seen != second.Thumbprint && DateTime.UtcNow < deadline);
        Assert.Equal(second.Thumbprint, seen);

        // A broken new pair (a key that is not the certificate's) keeps the last good certificate serving.
        File.WriteAllText(key, System.Security.Cryptography.ECDsa.Create().ExportPkcs8PrivateKeyPem());
        File.SetLastWriteTimeUtc(key, DateTime.UtcNow.AddSeconds(5));
        for (var i = 0; i < 5; i++)
            Assert.Equal(second.Thumbprint, await ServedThumbprintAsync(host.Address));
    }

    [Fact]
    public void ReplicaOptions_Default_ListensOnLoopbackOnly()
    {
        Assert.Equal("127.0.0.1", new ReplicaOptions().Host);
        Assert.Equal("127.0.0.1", ReplicaOptions.FromEnvironment(_ => null).Host);
        Assert.Equal("0.0.0.0", ReplicaOptions.FromEnvironment(n => n == "HOST" ? "0.0.0.0" : null).Host);
    }

    [Fact]
    public void ReplicaOptions_ClientCaWithoutCertificate_IsRefusedNamingTheOption()
    {
        var e = Assert.Throws<ArgumentException>(() => TestReplica.Options(o => o with { TlsClientCaFile = _ca.CaFile }).Validate());
        Assert.Contains("TlsClientCaFile", e.Message, StringComparison.Ordinal);
        var half = Assert.Throws<ArgumentException>(() => TestReplica.Options(o => o with { TlsCertFile = "x.crt" }).Validate());
        Assert.Contains("--tls-key", half.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replica_MissingCertificateFile_FailsToStartNamingTheFile()
    {
        var missing = Path.Combine(_dir.Path, "nope.crt");
        var e = await Assert.ThrowsAsync<Platform.Tls.TlsFileException>(() => ReplicaHost.StartAsync(TestReplica.Options(o => o with { TlsCertFile = missing, TlsKeyFile = missing })));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _dir.Dispose();
    }

    private Task<ReplicaHost> StartMutualAsync()
    {
        var (cert, key, _) = _ca.Server("mtls");
        return TestReplica.StartAsync(o => o with { TlsCertFile = cert, TlsKeyFile = key, TlsClientCaFile = _ca.CaFile }, waitReady: false);
    }

    private async Task<string?> ServedThumbprintAsync(Uri address)
    {
        using var client = Client(_ca.CaPublic, null, out var served);
        using var response = await client.GetAsync(new Uri(address, "/health")).WaitAsync(TestReplica.Timeout);
        return served();
    }

    /// <summary>A client (one new connection) that trusts only <paramref name="ca"/> and records the certificate the server showed.</summary>
    private static HttpClient Client(X509Certificate2 ca, X509Certificate2? clientCertificate, out Func<string?> served)
    {
        string? thumbprint = null;
        var handler = new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero };
        handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        handler.SslOptions.CertificateChainPolicy.CustomTrustStore.Add(ca);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            thumbprint = (certificate as X509Certificate2)?.Thumbprint ?? certificate?.GetCertHashString();
            return errors == SslPolicyErrors.None;
        };
        if (clientCertificate is not null)
            handler.SslOptions.ClientCertificates = [clientCertificate];
        served = () => thumbprint;
        return new HttpClient(handler) { Timeout = TestReplica.Timeout };
    }
}
