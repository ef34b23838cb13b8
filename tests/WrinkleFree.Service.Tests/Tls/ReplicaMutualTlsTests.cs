using System.Net;
using System.Security.Cryptography.X509Certificates;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Tests.Controller;
using WrinkleFree.Service.Tests.Integration;
using WrinkleFree.Service.Tests.Observability;
using WrinkleFree.Service.Tests.State;
using Xunit.Abstractions;

namespace WrinkleFree.Service.Tests.Tls;

/// <summary>
/// A whole local service with <c>service.replica_tls</c>: the controller's CA in a temp home, real `wf replica` processes
/// serving mutual TLS with the certificates it issued, the prober and the balancer presenting the client certificate.
/// Requests go through the service endpoint; certificates rotate under load with no failed request.
/// </summary>
public sealed class ReplicaMutualTlsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = ControllerHarness.Deadline;

    [Fact]
    public async Task Service_ReplicaTls_ServesThroughTheBalancerAndRotatesUnderLoadWithNoFailedRequest()
    {
        using var pkiHome = new TempHome();
        await using var h = await ControllerHarness.CreateAsync("svc", Spec());
        var controller = await h.StartControllerAsync("svc", new ServiceControllerOptions
        {
            TickInterval = TimeSpan.FromMilliseconds(200),
            DrainTimeout = TimeSpan.FromSeconds(5),
            PkiFolder = Path.Combine(pkiHome.Path, "pki"),
        });
        try
        {
            var ready = await h.WaitForAsync(controller, s => s.ReadyCount == 1, "an mTLS replica ready");
            var replicaUrl = new Uri(ready.Replicas.Single().Endpoint!);
            Assert.Equal("https", replicaUrl.Scheme);

            // Through the balancer: a completion answered by the mTLS replica.
            using (var http = new HttpClient { Timeout = Deadline })
            using (var content = new StringContent("""{"model":"tiny","prompt":"Hello","max_tokens":4}""", System.Text.Encoding.UTF8, "application/json"))
            using (var response = await http.PostAsync(new Uri(controller.Endpoint, "/v1/completions"), content).WaitAsync(Deadline))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            // Straight to the replica: no client certificate, no answer; the service's client certificate, an answer.
            var pki = controller.Pki!;
            using var ca = X509CertificateLoader.LoadCertificateFromFile(pki.CaFile);
            using (var stranger = TlsClients.Create(ca, null, out _))
                await Assert.ThrowsAnyAsync<HttpRequestException>(() => stranger.GetAsync(new Uri(replicaUrl, "/v1/models")).WaitAsync(Deadline));
            var servedBefore = await ServedByReplicaAsync(replicaUrl, ca, pki.ClientFiles);

            await using var load = new LoadGenerator(controller.Endpoint, 40);
            await Providers.ProviderTestSupport.WaitUntilAsync(() => Task.FromResult(load.Succeeded >= 40), "load to flow");

            // Rotate now, twice, while requests flow: the replica and the balancer pick the new files up for new connections.
            Assert.True(pki.RotateAll() >= 2);
            await WaitServedChangesAsync(replicaUrl, ca, pki, servedBefore);
            var servedMiddle = await ServedByReplicaAsync(replicaUrl, ca, pki.ClientFiles);
            var count = load.Succeeded;
            await Providers.ProviderTestSupport.WaitUntilAsync(() => Task.FromResult(load.Succeeded >= count + 40), "load after the first rotation");
            Assert.True(pki.RotateAll() >= 2);
            await WaitServedChangesAsync(replicaUrl, ca, pki, servedMiddle);
            count = load.Succeeded;
            await Providers.ProviderTestSupport.WaitUntilAsync(() => Task.FromResult(load.Succeeded >= count + 40), "load after the second rotation");
            await load.StopAsync();

            output.WriteLine($"requests through the balancer during two rotations: {load.Succeeded} succeeded, {load.Failures.Count} failed");
            Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} of {load.Failures.Count + load.Succeeded} failed:\n" + string.Join("\n", load.Failures.Take(5)));
            Assert.Equal(1, controller.Snapshot.ReadyCount);
        }
        finally
        {
            await controller.ShutdownAsync(CancellationToken.None).WaitAsync(Deadline);
            await controller.DisposeAsync();
        }
    }

    [Fact]
    public async Task EndpointProcess_ServiceTlsAndReplicaTls_HttpsInFrontMutualTlsBehind()
    {
        using var home = new TempHome();
        using var ca = new Testing.TestCertificates(home.Path);
        ca.Server("endpoint");
        var yaml = Spec().Replace("  replica_tls: true\n", $"  replica_tls: true\n  tls: {{keyfile: {home.Path}/endpoint.key, certfile: {home.Path}/endpoint.crt}}\n", StringComparison.Ordinal);
        Assert.Contains("tls: {keyfile", yaml, StringComparison.Ordinal);
        await using var h = await ControllerHarness.CreateAsync("svc", yaml);
        var settings = new Endpoint.EndpointProcessSettings(home.Path, [ChildProcessEntry.Dotnet, WfCli.Dll]);
        var controller = await h.StartControllerAsync("svc", new ServiceControllerOptions
        {
            TickInterval = TimeSpan.FromMilliseconds(200),
            DrainTimeout = TimeSpan.FromSeconds(5),
            PkiFolder = Path.Combine(home.Path, "pki"),
            EndpointFactory = async (name, balancer, allowOtherPort, ct) =>
                await Endpoint.EndpointProcessClient.StartOrAdoptAsync(settings, name, balancer, allowOtherPort, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, ct),
        });
        try
        {
            var ready = await h.WaitForAsync(controller, s => s.ReadyCount == 1, "an mTLS replica behind the endpoint process");
            Assert.Equal("https", ready.Endpoint.Scheme);
            Assert.Equal("https", new Uri(ready.Replicas.Single().Endpoint!).Scheme);
            using var client = TlsClients.Create(ca.CaPublic, null, out _);
            using var content = new StringContent("""{"model":"tiny","prompt":"Hello","max_tokens":4}""", System.Text.Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(new Uri(ready.Endpoint, "/v1/completions"), content).WaitAsync(Deadline);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            await controller.ShutdownAsync(CancellationToken.None).WaitAsync(Deadline);
            await controller.DisposeAsync();
        }
    }

    private static async Task WaitServedChangesAsync(Uri replica, X509Certificate2 ca, Service.Tls.ServicePki pki, string? before)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (await ServedByReplicaAsync(replica, ca, pki.ClientFiles) == before)
        {
            Assert.True(DateTime.UtcNow < deadline, "the replica kept serving its old certificate");
            await Task.Delay(100);
        }
    }

    /// <summary>The certificate the replica shows a new connection from a client holding the service's client certificate.</summary>
    private static async Task<string?> ServedByReplicaAsync(Uri replica, X509Certificate2 ca, Service.Tls.ReplicaClientTlsFiles client)
    {
        // The client pair is read as the files are now: between the key's and the certificate's rename it may not match yet.
        var deadline = DateTime.UtcNow + Deadline;
        X509Certificate2 certificate;
        while (true)
        {
            try
            {
                certificate = X509Certificate2.CreateFromPemFile(client.CertFile, client.KeyFile);
                break;
            }
            catch (System.Security.Cryptography.CryptographicException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }

        using (certificate)
        using (var http = TlsClients.Create(ca, certificate, out var served))
        using (var response = await http.GetAsync(new Uri(replica, "/v1/models")).WaitAsync(Deadline))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return served();
        }
    }

    private static string Spec() => $"""
        service:
          readiness_probe:
            path: /health
            initial_delay_seconds: 60
            latency_threshold_ms: 5000
          replicas: 1
          replica_tls: true
        envs:
          MODEL_PATH: {ReplicaProcess.ModelPath}
        run: |
          exec '{ChildProcessEntry.Dotnet}' '{WfCli.Dll}' replica --port "$PORT" --model-id tiny --threads 1 --peak-bandwidth 10
        tiers:
          - name: base
            provider: local
            capacity: 1
            cost_per_hour: 0
        """;
}
