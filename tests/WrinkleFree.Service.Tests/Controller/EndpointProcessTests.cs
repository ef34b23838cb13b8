using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Endpoint;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Service.State;
using WrinkleFree.Service.Tests.Integration;
using WrinkleFree.Service.Tests.Providers;
using WrinkleFree.Service.Tests.State;
using static WrinkleFree.Service.Tests.Controller.ControllerHarness;

namespace WrinkleFree.Service.Tests.Controller;

/// <summary>
/// The endpoint as a process of its own (the serving `wf endpoint`), driven by a real controller: it serves and exports
/// the service's metrics, outlives the controller, is adopted by the next one, comes back on its port when killed, and
/// stops with the service.
/// </summary>
public sealed class EndpointProcessTests
{
    [Fact]
    public async Task EndpointProcess_ServesOutlivesControllerRestartsWhenKilledAndStopsWithTheService()
    {
        await using var h = await CreateAsync("svc", SpecYaml(minReplicas: 1));
        var home = Path.GetDirectoryName(h.Store.Path)!;
        var settings = new EndpointProcessSettings(home, [ChildProcessEntry.Dotnet, WfCli.Dll]);
        var options = new ServiceControllerOptions
        {
            TickInterval = TimeSpan.FromMilliseconds(200),
            DrainTimeout = TimeSpan.FromSeconds(5),
            EndpointFactory = async (name, balancer, allowOtherPort, ct) =>
                await EndpointProcessClient.StartOrAdoptAsync(settings, name, balancer, allowOtherPort, TimeProvider.System, NullLogger.Instance, ct),
        };
        using var http = new HttpClient { Timeout = Deadline };
        var controller = await h.StartControllerAsync("svc", options);
        var endpointPids = new HashSet<int>();
        try
        {
            var ready = await h.WaitForAsync(controller, s => s.ReadyCount == 1, "a ready replica");
            var first = EndpointHost.ReadIdentity(home, "svc")!;
            endpointPids.Add(first.Pid);
            Assert.NotEqual(Environment.ProcessId, first.Pid);
            Assert.Equal(ready.Endpoint, new Uri(first.BaseUrl));
            for (var i = 0; i < 3; i++)
                await AssertServesAsync(http, ready.Endpoint);

            // The service's own metrics come from the endpoint process: requests, and the state the controller pushed.
            await ProviderTestSupport.WaitUntilAsync(async () =>
            {
                var text = await http.GetStringAsync(new Uri(ready.Endpoint, "/metrics"));
                return text.Contains("wf_service_replicas{service=\"svc\",tier=\"base\",status=\"READY\"} 1", StringComparison.Ordinal)
                    && text.Contains("wf_service_controller_up{service=\"svc\"} 1", StringComparison.Ordinal)
                    && Count(text, "wf_service_requests_total{service=\"svc\",code=\"200\"}") >= 3
                    && text.Contains("wf_service_target_replicas{service=\"svc\"} 1", StringComparison.Ordinal);
            }, "the endpoint's metrics");

            // The controller goes away: the endpoint keeps serving; the next controller adopts the very same process.
            await controller.DisposeAsync();
            await AssertServesAsync(http, ready.Endpoint);
            controller = await h.StartControllerAsync("svc", options);
            Assert.Equal(first.Pid, EndpointHost.ReadIdentity(home, "svc")!.Pid);
            await AssertServesAsync(http, ready.Endpoint);

            // The endpoint process is killed: the controller starts a new one on the same port and says so in the events.
            System.Diagnostics.Process.GetProcessById(first.Pid).Kill();
            await ProviderTestSupport.WaitUntilAsync(
                () => Task.FromResult(EndpointHost.ReadIdentity(home, "svc") is { } e && e.Pid != first.Pid), "a new endpoint process");
            var second = EndpointHost.ReadIdentity(home, "svc")!;
            endpointPids.Add(second.Pid);
            Assert.Equal(first.BaseUrl, second.BaseUrl);
            await ProviderTestSupport.WaitUntilAsync(async () => await ServesAsync(http, ready.Endpoint), "the new endpoint to route");
            var events = await h.Store.ListEventsAsync("svc", 0, 1000, CancellationToken.None);
            Assert.Contains(events, e => e.Kind == ServiceEventKinds.EndpointRestarted && e.Message.Contains(first.Pid.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));

            // Removing the service stops its endpoint process and its files.
            await controller.ShutdownAsync(CancellationToken.None).WaitAsync(Deadline);
            Assert.False(ProviderTestSupport.IsAlive(second.Pid), "the endpoint process still runs after the service was shut down");
            Assert.Null(EndpointHost.ReadIdentity(home, "svc"));
        }
        finally
        {
            await controller.DisposeAsync();
            ServiceDaemonTests.KillAll(endpointPids);
        }
    }

    private static async Task AssertServesAsync(HttpClient http, Uri endpoint) =>
        Assert.True(await ServesAsync(http, endpoint), $"{endpoint} did not answer /v1/models with 200");

    private static async Task<bool> ServesAsync(HttpClient http, Uri endpoint)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(endpoint, "/v1/models"));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static double Count(string metrics, string series)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }
}
