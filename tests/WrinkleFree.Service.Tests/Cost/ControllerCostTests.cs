using System.Net.Http.Json;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Cost;
using WrinkleFree.Service.Tests.Controller;
using WrinkleFree.Service.Tests.Integration;

namespace WrinkleFree.Service.Tests.Cost;

/// <summary>
/// The controller reads the replicas' token counters (fake-upstream replicas as real processes, vLLM's counter names) into
/// the store; <c>wf cost</c>'s numbers then add up against the replica records and the tokens the clients received.
/// </summary>
public sealed class ControllerCostTests
{
    private static readonly TimeSpan Deadline = ControllerHarness.Deadline;

    [Fact]
    public async Task Serve_RequestsThenShutdown_TokensAndReplicaHoursAddUp()
    {
        var spec = ServiceEndToEndTests.Spec(policy: "    min_replicas: 1", tiers: "  - {name: paid, provider: local, capacity: 1, cost_per_hour: 3.6}\n");
        await using var h = await ControllerHarness.CreateAsync("svc", spec);
        var controller = await h.StartControllerAsync("svc", new ServiceControllerOptions
        {
            TickInterval = TimeSpan.FromMilliseconds(200),
            DrainTimeout = TimeSpan.FromSeconds(5),
            UsageScrapeInterval = TimeSpan.FromMilliseconds(200),
        });
        await h.WaitForAsync(controller, s => s.ReadyCount == 1, "a ready replica");

        using var http = new HttpClient { BaseAddress = controller.Endpoint, Timeout = Deadline };
        long received = 0;
        for (var i = 0; i < 6; i++)
            received += await CompletionTokensAsync(http, maxTokens: 3 + i);
        Assert.Equal(3 + 4 + 5 + 6 + 7 + 8, received);

        // Scraped while it runs: the store's tokens reach what the clients got, and /metrics says the same.
        await WaitForAsync(async () => (await h.Store.CostAsync("svc", DateTimeOffset.UnixEpoch, CancellationToken.None)).Total.GeneratedTokens == received, "the tokens in the store");
        await WaitForAsync(async () => (await http.GetStringAsync("/metrics")).Contains($"wf_service_generated_tokens_total{{service=\"svc\",tier=\"paid\"}} {received}", StringComparison.Ordinal), "the tokens in /metrics");

        // Served after the last periodic read: counted by the read before the replica is stopped.
        received += await CompletionTokensAsync(http, maxTokens: 9);
        await controller.ShutdownAsync(CancellationToken.None).WaitAsync(Deadline);

        var report = await h.Store.CostAsync("svc", DateTimeOffset.UnixEpoch, CancellationToken.None).WaitAsync(Deadline);
        var replicas = await h.Store.ListReplicasAsync("svc", includeTerminated: true, CancellationToken.None).WaitAsync(Deadline);
        var hours = replicas.Sum(r => ((r.TerminatedAt ?? report.Until) - r.LaunchedAt).TotalHours);
        var line = Assert.Single(report.Lines);
        Assert.Equal(received, line.GeneratedTokens);
        Assert.True(line.PromptTokens > 0);
        Assert.Equal(replicas.Count, line.Replicas);
        Assert.Equal(hours, line.ReplicaHours, 6);
        Assert.Equal(hours * 3.6, line.Dollars, 6);
        Assert.Equal(line.Dollars * 1_000_000 / received, line.DollarsPerMillionTokens!.Value, 6);
    }

    private static async Task<long> CompletionTokensAsync(HttpClient http, int maxTokens)
    {
        using var response = await http.PostAsJsonAsync("/v1/completions", new
        {
            model = "fake",
            prompt = "count",
            max_tokens = maxTokens,
            stream = true,
            stream_options = new { include_usage = true },
        });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsStringAsync();
        return body.Split('\n').Count(l => l.StartsWith("data: {", StringComparison.Ordinal) && l.Contains(" tok", StringComparison.Ordinal));
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        while (!await condition())
        {
            Assert.False(deadline.IsCancellationRequested, $"timed out waiting for {what}");
            await Task.Delay(100, CancellationToken.None);
        }
    }
}
