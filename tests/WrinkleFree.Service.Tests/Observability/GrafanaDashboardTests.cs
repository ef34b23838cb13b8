using System.Text.Json;
using System.Text.RegularExpressions;
using WrinkleFree.Replica.Metrics;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Service.Tests.State;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Observability;

/// <summary>
/// deploy/grafana/wrinklefree.json: the fields Grafana's import needs, metric names that exist, and every query run by a
/// real Prometheus that scrapes a real replica and a real service endpoint through the shipped configuration.
/// </summary>
public sealed partial class GrafanaDashboardTests
{
    private static readonly string DashboardPath = Path.Combine(RepositoryPaths.Root, "deploy", "grafana", "wrinklefree.json");

    [Fact]
    public void Dashboard_HasTheFieldsGrafanaImportNeeds()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var root = document.RootElement;

        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("title").GetString()));
        Assert.Matches("^[A-Za-z0-9_-]{1,40}$", root.GetProperty("uid").GetString());
        Assert.True(root.GetProperty("schemaVersion").GetInt32() >= 36, "schemaVersion");
        Assert.Equal(JsonValueKind.Null, root.GetProperty("id").ValueKind);
        Assert.Equal("now-1h", root.GetProperty("time").GetProperty("from").GetString());
        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        Assert.Equal(["datasource", "service", "tier"], variables.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("datasource", variables["datasource"].GetProperty("type").GetString());
        Assert.Equal("prometheus", variables["datasource"].GetProperty("query").GetString());
        foreach (var name in new[] { "service", "tier" })
        {
            Assert.Equal("query", variables[name].GetProperty("type").GetString());
            Assert.Equal("${datasource}", variables[name].GetProperty("datasource").GetProperty("uid").GetString());
            Assert.True(variables[name].GetProperty("includeAll").GetBoolean());
        }

        var panels = root.GetProperty("panels").EnumerateArray().ToList();
        Assert.True(panels.Count >= 12, $"{panels.Count} panels");
        var ids = new HashSet<int>();
        var cells = new Dictionary<(int X, int Y), string>();
        foreach (var panel in panels)
        {
            var title = panel.GetProperty("title").GetString();
            Assert.False(string.IsNullOrWhiteSpace(title));
            Assert.True(ids.Add(panel.GetProperty("id").GetInt32()), $"panel id {panel.GetProperty("id")} is used twice");
            Assert.Contains(panel.GetProperty("type").GetString(), new[] { "timeseries", "stat" });
            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.False(string.IsNullOrWhiteSpace(panel.GetProperty("fieldConfig").GetProperty("defaults").GetProperty("unit").GetString()), title);

            // The grid is 24 columns wide; two panels sharing a cell would be drawn over each other.
            var grid = panel.GetProperty("gridPos");
            int x = grid.GetProperty("x").GetInt32(), y = grid.GetProperty("y").GetInt32(), w = grid.GetProperty("w").GetInt32(), h = grid.GetProperty("h").GetInt32();
            Assert.True(x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= 24, $"{title}: gridPos {grid}");
            for (var cx = x; cx < x + w; cx++)
            {
                for (var cy = y; cy < y + h; cy++)
                {
                    Assert.True(cells.TryAdd((cx, cy), title!), $"{title} overlaps {cells.GetValueOrDefault((cx, cy))}");
                }
            }

            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.NotEmpty(targets);
            Assert.Equal(targets.Count, targets.Select(t => t.GetProperty("refId").GetString()).Distinct().Count());
            foreach (var target in targets)
            {
                Assert.Equal("prometheus", target.GetProperty("datasource").GetProperty("type").GetString());
                Assert.Equal("${datasource}", target.GetProperty("datasource").GetProperty("uid").GetString());
                Assert.False(string.IsNullOrWhiteSpace(target.GetProperty("expr").GetString()), title);
            }
        }
    }

    [Fact]
    public void DashboardAndRules_UseOnlyMetricsThatExist_AndTheDashboardShowsWhatOperatorsWatch()
    {
        var known = MetricNames.All.Concat(ServiceMetrics.Names).ToHashSet(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (panel, expr) in Expressions())
        {
            foreach (var name in MetricNamesIn(expr))
            {
                Assert.True(known.Contains(name), $"panel '{panel}' queries {name}, which neither a replica (MetricNames.All) nor the service endpoint (ServiceMetrics.Names) exports: {expr}");
                used.Add(name);
            }
        }

        var rules = File.ReadAllLines(Path.Combine(PrometheusRulesTests.DeployFolder, "rules", "wrinklefree.rules.yml")).Select(l => l.Split('#')[0]);
        foreach (var name in rules.SelectMany(MetricNamesIn))
        {
            Assert.True(known.Contains(name), $"wrinklefree.rules.yml uses {name}, which nobody exports");
        }

        string[] watched =
        [
            "wf_tokens_per_second", "wf_time_to_first_token_seconds", "wf_memory_bandwidth_utilization", "wf_active_requests", "wf_queue_depth",
            "wf_service_qps", "wf_service_replicas", "wf_service_cost_per_hour_dollars", "wf_service_requests_total", "wf_service_spillover_replicas",
        ];
        Assert.Empty(watched.Except(used));
    }

    [Fact]
    public async Task Dashboard_EveryQuery_RunsInPrometheusAndShowsALiveServiceAndReplica()
    {
        using var home = new TempHome();
        await using var service = await ScrapedService.StartAsync(home.Path);
        var prometheus = service.Prometheus;
        // A counter's increase shows only between two scrapes of its series, and a labelled series is born with its first
        // request: one request, a scrape that sees it, then more.
        await service.SendAsync(1);
        await prometheus.WaitUntilAsync(
            async () => (await prometheus.QueryVectorAsync("""wf_service_requests_total{service="chat",code="200"}""")).Count == 1,
            "the endpoint's first request to be scraped");
        await service.SendAsync(2);
        await prometheus.WaitUntilAsync(
            async () => (await prometheus.QueryVectorAsync("""increase(wf_service_requests_total{service="chat",code="200"}[1m])""")).Any(s => s.Value > 0),
            "the endpoint's requests to show in a rate");

        // The variables' queries, as Grafana's label_values() runs them: the file_sd labels fill them.
        var services = await prometheus.QueryVectorAsync("""up{job=~"wf-replicas|wf-services"}""");
        Assert.Equal(2, services.Count(s => s.Labels.GetValueOrDefault("service") == "chat"));
        var tiers = await prometheus.QueryVectorAsync("""up{job="wf-replicas", service=~".*"}""");
        Assert.Contains(tiers, s => s.Labels.GetValueOrDefault("tier") == "onprem");

        // Nothing failed and nothing was retried: those two ratios have no series to show.
        // The hand-made push above sets the cost and token totals once: their increase is 0, so cost per token is 0/0.
        string[] emptyWhenAllIsWell = ["5xx error ratio", "Load balancer retries/s", "$ per 1M generated tokens by tier"];
        foreach (var (panel, expr) in Expressions())
        {
            // What Grafana sends with "All" selected and a short range.
            var query = expr.Replace("$service", ".*", StringComparison.Ordinal).Replace("$tier", ".*", StringComparison.Ordinal)
                .Replace("$__rate_interval", "1m", StringComparison.Ordinal);
            var result = await prometheus.QueryVectorAsync(query);
            if (!emptyWhenAllIsWell.Contains(panel) && result.Count == 0)
            {
                // A rate needs two scrapes of a series inside its window: a histogram first scraped late is empty a while.
                await prometheus.WaitUntilAsync(
                    async () => (await prometheus.QueryVectorAsync(query)).Count > 0,
                    $"panel '{panel}' to show data for a scraped service and replica: {query}");
            }
        }
    }

    private static IEnumerable<(string Panel, string Expr)> Expressions()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var found = new List<(string, string)>();
        foreach (var panel in document.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                found.Add((panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!));
            }
        }

        return found;
    }

    /// <summary>The wf_ metric names an expression reads; a histogram's _bucket/_sum/_count series count as the histogram.</summary>
    private static IEnumerable<string> MetricNamesIn(string expr) =>
        MetricName().Matches(expr).Select(m => m.Value).Select(name =>
            Regex.Replace(name, "_(bucket|sum|count)$", "") is var histogram && histogram != name && histogram.EndsWith("_seconds", StringComparison.Ordinal) ? histogram : name);

    // Not part of a recording rule's name (level:metric:operation), which is ours to choose.
    [GeneratedRegex(@"(?<![\w:])wf_[a-z0-9_]+(?![\w:])")]
    private static partial Regex MetricName();
}
