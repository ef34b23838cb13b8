using System.Net;
using System.Text.Json;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Tls;

/// <summary>
/// The service endpoint served from a spec with <c>service.tls</c>: a real Kestrel on loopback speaking HTTPS with the
/// spec's certificate (made by the test), reached by a client that trusts only the test CA; the files replaced while it
/// runs are served to new connections without a restart.
/// </summary>
public sealed class EndpointTlsTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new("wf-endpoint-tls-tests");
    private readonly TestCertificates _ca;

    public EndpointTlsTests() => _ca = new TestCertificates(_dir.Path);

    [Fact]
    public async Task Endpoint_SpecWithServiceTls_ServesHttpsWithTheSpecCertificate()
    {
        var (_, _, served) = _ca.Server("endpoint");
        await using var balancer = await StartFromSpecAsync("service:\n  tls: {keyfile: endpoint.key, certfile: endpoint.crt}\n");

        Assert.Equal("https", balancer.BaseUrl.Scheme);
        using var client = TlsClients.Create(_ca.CaPublic, null, out var seen);
        using var health = await client.GetAsync(new Uri(balancer.BaseUrl, "/health")).WaitAsync(Deadline);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        using var body = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
        Assert.Equal("no_ready_replicas", body.RootElement.GetProperty("status").GetString());
        Assert.Equal(served.Thumbprint, seen());

        // Plain HTTP on the HTTPS port gets no answer a client could mistake for the service.
        using var plain = new HttpClient { Timeout = Deadline };
        var http = new UriBuilder(balancer.BaseUrl) { Scheme = "http" }.Uri;
        var answered = await Record.ExceptionAsync(async () =>
        {
            using var response = await plain.GetAsync(new Uri(http, "/health"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        });
        Assert.True(answered is null or HttpRequestException, answered?.ToString());
    }

    [Fact]
    public async Task Endpoint_CertificateFilesReplaced_NewConnectionsGetTheNewCertificateWithoutRestart()
    {
        var (cert, key, first) = _ca.Server("endpoint");
        await using var balancer = await StartFromSpecAsync("service:\n  tls: {keyfile: endpoint.key, certfile: endpoint.crt}\n");
        Assert.Equal(first.Thumbprint, await ServedAsync(balancer.BaseUrl));

        var second = _ca.WriteServer(cert, key);
        var deadline = DateTime.UtcNow + Deadline;
        string? seen;
        do
        {
            seen = await ServedAsync(balancer.BaseUrl);
        }
        while (seen != second.Thumbprint && DateTime.UtcNow < deadline);
        Assert.Equal(second.Thumbprint, seen);
    }

    [Fact]
    public void BalancerOptions_TlsPathsChangedWhileRunning_AreRefusedAsFixed()
    {
        var running = new ServiceLoadBalancerOptions { TlsCertFile = "/a.crt", TlsKeyFile = "/a.key" };
        var e = Assert.Throws<ArgumentException>(() => running.CheckFixed(running with { TlsCertFile = "/b.crt" }, 0));
        Assert.Contains("service.tls", e.Message, StringComparison.Ordinal);
        var half = Assert.Throws<ArgumentException>(() => new ServiceLoadBalancerOptions { TlsCertFile = "/a.crt" }.Validate());
        Assert.Contains("key", half.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckUnchanged_UpdateToOtherFilesOrPlainHttp_RefusedNamingServiceTls()
    {
        var running = new TlsSpec { Certfile = "/a.crt", Keyfile = "/a.key" };
        EndpointCertificateCheckUnchanged(running, running with { });
        var other = Assert.Throws<ServiceSpecException>(() => EndpointCertificateCheckUnchanged(running, running with { Certfile = "/b.crt" }));
        Assert.Equal("service.tls", other.KeyPath);
        Assert.Contains("/a.crt", other.Message, StringComparison.Ordinal);
        var plain = Assert.Throws<ServiceSpecException>(() => EndpointCertificateCheckUnchanged(running, null));
        Assert.Contains("HTTP and HTTPS", plain.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _dir.Dispose();
    }

    private static void EndpointCertificateCheckUnchanged(TlsSpec? running, TlsSpec? next) =>
        Service.Tls.EndpointCertificateCheck.CheckUnchanged(running, next);

    private async Task<ServiceLoadBalancer> StartFromSpecAsync(string yaml)
    {
        var plan = ServicePlan.Parse(yaml + "run: echo hi\n", Path.Combine(_dir.Path, "service.yaml"), new ServicePlanContext { SpecDirectory = _dir.Path });
        var options = SpecMapping.ToBalancerOptions(plan.Spec, "svc", "127.0.0.1", 0);
        return await ServiceLoadBalancer.StartAsync(options).WaitAsync(Deadline);
    }

    private async Task<string?> ServedAsync(Uri endpoint)
    {
        using var client = TlsClients.Create(_ca.CaPublic, null, out var seen);
        using var response = await client.GetAsync(new Uri(endpoint, "/health")).WaitAsync(Deadline);
        return seen();
    }
}
