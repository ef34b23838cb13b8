using System.Net;
using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;
using static WrinkleFree.Service.Tests.Controller.ControllerHarness;

namespace WrinkleFree.Service.Tests.Controller;

/// <summary>
/// <c>service.load_balancer.host/port</c>: the endpoint listens where the spec says (an endpoint behind an edge must
/// leave loopback), and a spec that moves a running endpoint is refused before it is stored.
/// </summary>
public sealed class EndpointAddressTests
{
    [Fact]
    public async Task SpecHostAndPort_EndpointListensThere_MovingItIsRefused()
    {
        var port = FreePort.Next();
        var spec = SpecYaml(minReplicas: 0, maxReplicas: 1).Replace(
            "service:\n", $"service:\n  load_balancer:\n    host: 0.0.0.0\n    port: {port}\n", StringComparison.Ordinal);
        await using var h = await CreateAsync("svc", spec);
        var controller = await h.StartControllerAsync("svc");
        try
        {
            Assert.Equal(port, controller.Endpoint.Port);
            // 0.0.0.0: reachable on an address that is not loopback (this machine's own, through the same stack).
            var other = (await Dns.GetHostAddressesAsync(Dns.GetHostName())).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
            using var http = new HttpClient { Timeout = Deadline };
            using var health = await http.GetAsync(new Uri($"http://{other ?? IPAddress.Loopback}:{port}/health"));
            // No replica yet (min 0): the endpoint itself answers, which is what is checked here.
            Assert.True(health.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, health.StatusCode.ToString());

            var moved = ServiceSpecParser.Parse(spec.Replace($"port: {port}", $"port: {port + 1}", StringComparison.Ordinal));
            var e = await Assert.ThrowsAsync<ServiceSpecException>(() => controller.UpdateAsync(moved, CancellationToken.None));
            Assert.Contains("service.load_balancer.port", e.Message, StringComparison.Ordinal);
            Assert.Contains("cannot change while the service runs", e.Message, StringComparison.Ordinal);
            Assert.Single(await h.Store.ListVersionsAsync("svc", CancellationToken.None));
        }
        finally
        {
            await controller.ShutdownAsync(CancellationToken.None).WaitAsync(Deadline);
            await controller.DisposeAsync();
        }
    }

    [Fact]
    public void SpecRoundTrip_KeepsHostAndPort()
    {
        var spec = ServiceSpecParser.Parse("service:\n  replicas: 1\n  load_balancer:\n    host: 0.0.0.0\n    port: 8443\n");

        var again = ServiceSpecParser.Parse(spec.ToYaml());

        Assert.Equal("0.0.0.0", again.Service.LoadBalancer.Host);
        Assert.Equal(8443, again.Service.LoadBalancer.Port);
        Assert.Null(ServiceSpecParser.Parse(ServiceSpecParser.Parse("service:\n  replicas: 1\n").ToYaml()).Service.LoadBalancer.Port);
    }
}
