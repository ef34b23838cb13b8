using System.Text.Json;
using WrinkleFree.Platform.Files;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Tests.Integration;
using WrinkleFree.Service.Tests.Providers;
using WrinkleFree.Service.Tests.State;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Observability;

/// <summary>
/// The shipped deploy/prometheus/prometheus.yml and rules on a real Prometheus, finding a real `wf replica` through the
/// file_sd contract the daemon writes ($WF_HOME/prometheus/replicas.json).
/// </summary>
public sealed class PrometheusScrapeTests
{
    /// <summary>Where the shipped configuration expects the daemon's file_sd files (WF_PROMETHEUS_SD_DIR on a server).</summary>
    internal const string ShippedFileSdFolder = "/var/lib/prometheus/wrinklefree";

    [Fact]
    public async Task ShippedConfig_ReplicaAddedToFileSd_IsScrapedWithItsLabelsAndItsRequestsAreQueryable()
    {
        using var home = new TempHome();
        await using var replica = await ReplicaProcess.StartAsync(Path.Combine(home.Path, "logs", "chat", "1.log"));
        var sd = Path.Combine(home.Path, "prometheus");
        Directory.CreateDirectory(sd);
        // The daemon's state before any replica is ready: empty target lists.
        AtomicFile.WriteAllText(Path.Combine(sd, "replicas.json"), "[]");
        AtomicFile.WriteAllText(Path.Combine(sd, "services.json"), "[]");
        await using var prometheus = await StartShippedAsync(sd);

        // The replica becomes ready: the daemon rewrites the file (temp + rename) while Prometheus runs.
        AtomicFile.WriteAllText(Path.Combine(sd, "replicas.json"), JsonSerializer.Serialize(new[]
        {
            new { targets = new[] { replica.HostPort }, labels = new Dictionary<string, string> { ["service"] = "chat", ["tier"] = "onprem", ["replica"] = "1", ["version"] = "3" } },
        }));
        IReadOnlyList<PrometheusTarget> targets = [];
        await prometheus.WaitUntilAsync(
            async () => (targets = await prometheus.TargetsAsync()).Any(t => t.Job == "wf-replicas" && t.Health == "up"),
            "the replica's target to be up",
            () => Task.FromResult(string.Join("; ", targets.Select(t => $"{t.Job} {t.ScrapeUrl} {t.Health} {t.LastError}"))));
        var target = targets.Single(t => t.Job == "wf-replicas");
        Assert.Equal($"http://{replica.HostPort}/metrics", target.ScrapeUrl);
        Assert.Equal("chat", target.Labels["service"]);
        Assert.Equal("onprem", target.Labels["tier"]);
        Assert.Equal("1", target.Labels["replica"]);
        Assert.Equal("3", target.Labels["version"]);
        Assert.Equal(replica.HostPort, target.Labels["instance"]);

        using (var http = new HttpClient { Timeout = ReplicaProcess.Deadline })
        using (var response = await ReplicaProcess.CompleteAsync(http, replica.Address))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        const string Requests = """wf_requests_total{job="wf-replicas",service="chat",tier="onprem",endpoint="/v1/completions",status="200"}""";
        await prometheus.WaitUntilAsync(async () => (await prometheus.QueryVectorAsync(Requests)).Any(s => s.Value >= 1), $"`{Requests}` >= 1");

        // The shipped rules are loaded and evaluated over the live series.
        const string Recorded = """service_tier:wf_tokens_per_second:sum{service="chat",tier="onprem"}""";
        await prometheus.WaitUntilAsync(async () => (await prometheus.QueryVectorAsync(Recorded)).Count == 1, $"the recording rule `{Recorded}`");
    }

    [Fact]
    public async Task ShippedConfig_ServiceEndpointInFileSd_IsScrapedKeepingItsOwnServiceLabel()
    {
        using var home = new TempHome();
        await using var service = await ScrapedService.StartAsync(home.Path);
        await service.SendAsync(2);
        var prometheus = service.Prometheus;
        await service.WaitForScrapesAsync(1);

        const string Requests = """wf_service_requests_total{job="wf-services",code="200"}""";
        IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> samples = [];
        await prometheus.WaitUntilAsync(async () => (samples = await prometheus.QueryVectorAsync(Requests)).Any(s => s.Value >= 2), $"`{Requests}` >= 2");
        var labels = samples.Single().Labels;
        // honor_labels: the endpoint's own service label stands, not renamed exported_service.
        Assert.Equal("chat", labels["service"]);
        Assert.False(labels.ContainsKey("exported_service"));
        Assert.Equal($"{service.Balancer.BaseUrl.Host}:{service.Balancer.BaseUrl.Port}", labels["instance"]);

        // The controller's push reaches the alert rules' inputs: one READY replica, controller up, no alert pending.
        Assert.Equal(1, (await prometheus.QueryVectorAsync("""sum(wf_service_replicas{service="chat",status="READY"})""")).Single().Value);
        Assert.Equal(1, (await prometheus.QueryVectorAsync("""wf_service_controller_up{service="chat"}""")).Single().Value);
        Assert.Empty(await prometheus.QueryVectorAsync("ALERTS"));
    }

    [Fact]
    public async Task ShippedConfig_ServiceRunByWfUp_DaemonsTargetFilesLeadPrometheusToTheReplicaAndTheEndpoint()
    {
        using var home = new TempHome();
        // As on a server: the daemon writes its file_sd files where Prometheus reads them (WF_PROMETHEUS_SD_DIR).
        var sd = Path.Combine(home.Path, "prometheus-sd");
        var wf = new WfCli(home.Path, new Dictionary<string, string> { ["WF_PROMETHEUS_SD_DIR"] = sd });
        var pids = new HashSet<int>();
        var spec = Path.Combine(home.Path, "svc.yaml");
        await File.WriteAllTextAsync(spec, ReplicaProcess.ServiceSpec());
        try
        {
            var up = await wf.RunAsync("up", spec, "--name", "svc", "--detach");
            Assert.True(up.ExitCode == 0, up.Stderr);
            using var client = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(ReplicaProcess.Deadline))!;
            var view = await ServiceDaemonTests.WaitAsync(client, v => v.ReadyReplicas == 1, pids);
            var replica = view.Replicas.Single();
            await ProviderTestSupport.WaitUntilAsync(() => Task.FromResult(File.Exists(Path.Combine(sd, "replicas.json")) && File.ReadAllText(Path.Combine(sd, "replicas.json")).Contains("\"svc\"", StringComparison.Ordinal)),
                "the daemon to list the ready replica in replicas.json");
            await using var prometheus = await StartShippedAsync(sd);

            IReadOnlyList<PrometheusTarget> targets = [];
            await prometheus.WaitUntilAsync(
                async () => (targets = await prometheus.TargetsAsync()).Count(t => t.Health == "up") == 2,
                "the replica and the endpoint to be scraped",
                () => Task.FromResult(string.Join("; ", targets.Select(t => $"{t.Job} {t.ScrapeUrl} {t.Health} {t.LastError}"))));
            var replicaTarget = targets.Single(t => t.Job == "wf-replicas");
            Assert.Equal("svc", replicaTarget.Labels["service"]);
            Assert.Equal("base", replicaTarget.Labels["tier"]);
            Assert.Equal(replica.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), replicaTarget.Labels["replica"]);
            Assert.Equal("svc", targets.Single(t => t.Job == "wf-services").Labels["service"]);

            using (var http = new HttpClient { Timeout = ReplicaProcess.Deadline })
            using (var response = await ReplicaProcess.CompleteAsync(http, new Uri(view.Endpoint + "/")))
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            }

            foreach (var query in new[]
            {
                """wf_requests_total{job="wf-replicas",service="svc",tier="base",endpoint="/v1/completions",status="200"}""",
                """wf_service_requests_total{job="wf-services",service="svc",code="200"}""",
                """wf_service_replicas{job="wf-services",service="svc",tier="base",status="READY"}""",
                """wf_service_controller_up{service="svc"}""",
            })
            {
                await prometheus.WaitUntilAsync(async () => (await prometheus.QueryVectorAsync(query)).Any(s => s.Value >= 1), $"`{query}` >= 1");
            }

            var down = await wf.RunAsync("down", "svc");
            Assert.True(down.ExitCode == 0, down.Stderr);
        }
        finally
        {
            WfServiceCommandTests.KillBackground(home.Path, pids);
        }
    }

    /// <summary>The shipped prometheus.yml with only its file_sd folder moved to <paramref name="fileSdFolder"/>, and its rules.</summary>
    internal static Task<PrometheusServer> StartShippedAsync(string fileSdFolder)
    {
        var config = File.ReadAllText(Path.Combine(PrometheusRulesTests.DeployFolder, "prometheus.yml"));
        // Both jobs' file lists name a file there; if the shipped paths move, this test must move with them.
        Assert.Equal(2, config.Split("- " + ShippedFileSdFolder + "/").Length - 1);
        // The daemon puts its replica key there; without a daemon, any key does (replicas without keys ignore it).
        var key = Path.Combine(fileSdFolder, "replica.key");
        if (!File.Exists(key))
            File.WriteAllText(key, "no-key-needed\n");
        var rules = Path.Combine("rules", "wrinklefree.rules.yml");
        return PrometheusServer.StartAsync(
            config.Replace(ShippedFileSdFolder, fileSdFolder, StringComparison.Ordinal),
            new Dictionary<string, string> { [rules] = File.ReadAllText(Path.Combine(PrometheusRulesTests.DeployFolder, rules)) });
    }
}
