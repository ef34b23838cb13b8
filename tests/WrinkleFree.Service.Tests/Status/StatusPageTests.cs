using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using PuppeteerSharp;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.State;
using WrinkleFree.Service.Tests.Controller;
using WrinkleFree.Service.Tests.Integration;
using WrinkleFree.Service.Tests.Providers;
using WrinkleFree.Service.Tests.State;
using Xunit.Abstractions;

namespace WrinkleFree.Service.Tests.Status;

/// <summary>
/// The status page of a real in-process daemon (Kestrel on loopback, real SQLite, fake-upstream replica processes) opened
/// in headless Chromium: assertions on the DOM the page's scripts rendered, and a screenshot in the test output folder.
/// </summary>
public sealed class StatusPageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = ControllerHarness.Deadline;
    private const int WaitMs = 30_000;

    /// <summary>What the page's scripts rendered, as JSON.</summary>
    private const string Snapshot = """
        () => JSON.stringify({
          status: document.querySelector('#services tr[data-service="svc"] .status')?.textContent,
          replicas: document.querySelector('#services tr[data-service="svc"] .replicas')?.textContent,
          qps: document.querySelector('#services tr[data-service="svc"] .qps')?.textContent,
          tiers: [...document.querySelectorAll('section.service[data-service="svc"] .tier-band')]
            .map(b => ({ name: b.dataset.tier, used: b.dataset.used, capacity: b.dataset.capacity, cls: b.className })),
          rows: [...document.querySelectorAll('section.service[data-service="svc"] tr[data-replica]')]
            .map(r => ({ id: r.dataset.replica, tier: r.querySelector('.tier').textContent, status: r.querySelector('.status').textContent,
                         failure: r.querySelector('.failure').textContent })),
          charts: [...document.querySelectorAll('section.service[data-service="svc"] svg.chart')]
            .map(s => ({ metric: s.dataset.metric, points: Number(s.dataset.points), circles: s.querySelectorAll('circle.pt').length })),
          events: [...document.querySelectorAll('#events tbody tr')].map(r => r.dataset.kind),
          noServices: !document.getElementById('no-services').hidden,
          noServicesText: document.getElementById('no-services').textContent,
          noEvents: !document.getElementById('no-events').hidden,
          services: document.querySelector('#total-services .value')?.textContent,
        })
        """;

    [Fact]
    public async Task StatusPage_ServiceSpillingToSecondTier_RendersServiceTiersReplicasChartsAndEvents()
    {
        using var home = new TempHome();
        var pids = new HashSet<int>();
        var daemon = await StartDaemonAsync(home);
        try
        {
            using var client = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline))!;
            // min 2 on a free tier of capacity 1 and a paid one: the second replica spills over.
            var spec = ControllerHarness.SpecYaml(2).Replace(ProviderTestSupport.FakeRun(), ProviderTestSupport.FakeRun() + " --ttft-ms 42", StringComparison.Ordinal);
            await client.CreateAsync(new CreateServiceRequest { Name = "svc", SpecYaml = spec }, CancellationToken.None).WaitAsync(Deadline);
            var view = await ServiceDaemonTests.WaitAsync(client, v => v.ReadyReplicas == 2, pids);
            using (var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = Deadline })
            {
                for (var i = 0; i < 20; i++)
                {
                    using var response = await http.GetAsync(new Uri(new Uri(view.Endpoint), "/v1/models"));
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }
            }
            var failed = view.Replicas.Single(r => r.Tier == "spill").Id;
            // A second store on the daemon's file, as another process would: the page reads the failure from the event log.
            using (var store = await ServiceStore.OpenAsync(home.StatePath, TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline))
            {
                await store.AddEventAsync(ServiceEvents.ReplicaFailed("svc", failed, "exit code 3: model file /models/missing.gguf does not exist"), CancellationToken.None).WaitAsync(Deadline);
            }

            // Two points on the QPS chart: the daemon's sampler has stored one (every 10 s) besides the page's "now".
            var state = await RenderAsync(daemon, "status-page.png", """
                () => Number(document.querySelector('#services tr[data-service="svc"] .qps')?.textContent) > 0
                  && document.querySelectorAll('#events tbody tr').length > 0
                  && Number(document.querySelector('svg.chart[data-metric="qps"]')?.dataset.points) >= 2
                """);

            Assert.Equal("READY", state.GetProperty("status").GetString());
            Assert.Equal("2 / 2", state.GetProperty("replicas").GetString());
            Assert.True(double.Parse(state.GetProperty("qps").GetString()!, CultureInfo.InvariantCulture) > 0, "QPS after 20 requests");
            var tiers = state.GetProperty("tiers").EnumerateArray().ToList();
            Assert.Equal(["base", "spill"], tiers.Select(t => t.GetProperty("name").GetString()));
            Assert.Equal([("1", "1"), ("1", "2")], tiers.Select(t => (t.GetProperty("used").GetString(), t.GetProperty("capacity").GetString())));
            Assert.Contains("full", tiers[0].GetProperty("cls").GetString()!.Split(' '));
            Assert.Contains("spill", tiers[1].GetProperty("cls").GetString()!.Split(' '));
            var rows = state.GetProperty("rows").EnumerateArray().ToList();
            Assert.Equal(["base", "spill"], rows.Select(r => r.GetProperty("tier").GetString()).Order());
            Assert.All(rows, r => Assert.Equal("READY", r.GetProperty("status").GetString()));
            var failedRow = rows.Single(r => r.GetProperty("id").GetString() == failed.ToString(CultureInfo.InvariantCulture));
            Assert.Contains("model file /models/missing.gguf does not exist", failedRow.GetProperty("failure").GetString(), StringComparison.Ordinal);
            var charts = state.GetProperty("charts").EnumerateArray().ToDictionary(c => c.GetProperty("metric").GetString()!);
            Assert.Equal(["cost", "qps", "ttft"], charts.Keys.Order());
            Assert.All(charts.Values, c => Assert.True(c.GetProperty("points").GetInt32() >= 2 && c.GetProperty("circles").GetInt32() >= 2, c.ToString()));
            var events = state.GetProperty("events").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Contains(ServiceEventKinds.ServiceCreated, events);
            Assert.Contains(ServiceEventKinds.ReplicaFailed, events);
            Assert.False(state.GetProperty("noServices").GetBoolean());
        }
        finally
        {
            await daemon.DisposeAsync();
            ServiceDaemonTests.KillAll(pids);
        }
    }

    [Fact]
    public async Task StatusPage_NoServices_SaysSoWithoutScriptErrors()
    {
        using var home = new TempHome();
        var daemon = await StartDaemonAsync(home);
        try
        {
            var state = await RenderAsync(daemon, "status-page-empty.png", "() => !document.getElementById('no-services').hidden");

            Assert.True(state.GetProperty("noServices").GetBoolean());
            Assert.True(state.GetProperty("noEvents").GetBoolean());
            Assert.Equal("0", state.GetProperty("services").GetString());
            Assert.Empty(state.GetProperty("tiers").EnumerateArray());
            Assert.Contains("No services", state.GetProperty("noServicesText").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await daemon.DisposeAsync();
        }
    }

    private static Task<ServiceDaemon> StartDaemonAsync(TempHome home) =>
        ServiceDaemon.StartAsync(new DaemonOptions { Home = home.Path, TickInterval = TimeSpan.FromMilliseconds(200), DrainTimeout = TimeSpan.FromSeconds(5) },
            TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);

    /// <summary>
    /// Opens /status, waits until <paramref name="ready"/> holds in the page, saves a full-page screenshot as
    /// <paramref name="png"/> in the test output folder, and returns the rendered state; fails on any script error or any
    /// request that left the daemon.
    /// </summary>
    private async Task<JsonElement> RenderAsync(ServiceDaemon daemon, string png, string ready)
    {
        var origin = daemon.Info.AdminUrl.GetLeftPart(UriPartial.Authority);
        await using var browser = await HeadlessChromium.LaunchAsync().WaitAsync(Deadline);
        await using var page = await browser.NewPageAsync().WaitAsync(Deadline);
        var requests = new ConcurrentQueue<string>();
        var errors = new ConcurrentQueue<string>();
        page.Request += (_, e) => requests.Enqueue(e.Request.Url);
        page.PageError += (_, e) => errors.Enqueue(e.Message);
        page.Console += (_, e) =>
        {
            if (e.Message.Type == ConsoleType.Error)
                errors.Enqueue(e.Message.Text);
        };
        await page.SetViewportAsync(new ViewPortOptions { Width = 1280, Height = 900 }).WaitAsync(Deadline);
        // The one-time link `wf status --web` prints: it sets the session cookie and redirects to /status.
        var response = await page.GoToAsync(daemon.CreateStatusLink().ToString(), new NavigationOptions { Timeout = WaitMs }).WaitAsync(Deadline);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        await page.WaitForFunctionAsync(ready, new WaitForFunctionOptions { Timeout = WaitMs }).WaitAsync(Deadline);

        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, png);
        await page.ScreenshotAsync(path, new ScreenshotOptions { FullPage = true }).WaitAsync(Deadline);
        output.WriteLine($"status page screenshot: {path}");
        Assert.True(new FileInfo(path).Length > 1000, "the screenshot is not empty");

        var state = JsonDocument.Parse(await page.EvaluateFunctionAsync<string>(Snapshot).WaitAsync(Deadline)).RootElement.Clone();
        Assert.Empty(errors);
        Assert.All(requests, url => Assert.StartsWith(origin + "/status", url, StringComparison.Ordinal));
        return state;
    }
}
