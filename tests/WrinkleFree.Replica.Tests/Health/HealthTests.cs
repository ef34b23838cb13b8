namespace WrinkleFree.Replica.Tests.Health;

/// <summary>/health states: loading, ok, overloaded (queue and bandwidth thresholds), and the numbers it reports.</summary>
public sealed class HealthTests
{
    [Fact]
    public async Task Health_WhileLoadingThenReady_Returns503LoadingThen200Ok()
    {
        var gate = new TaskCompletionSource();
        await using var host = await ReplicaHost.StartAsync(TestReplica.Options(), null, null, () => gate.Task, CancellationToken.None).WaitAsync(TestReplica.Timeout);
        using var client = TestReplica.Client(host);

        var (loadingStatus, loading) = await TestReplica.GetAsync(client, "/health");
        Assert.Equal(503, loadingStatus);
        Assert.Equal("loading", loading.GetProperty("status").GetString());
        var (completionStatus, error, response) = await TestReplica.PostAsync(client, "/v1/completions", TestReplica.Json(new { prompt = "hi" }));
        Assert.Equal(503, completionStatus);
        Assert.Equal("model_loading", error.GetProperty("error").GetProperty("code").GetString());
        Assert.NotNull(response.Headers.RetryAfter);

        gate.SetResult();
        await host.WaitUntilReadyAsync(CancellationToken.None).WaitAsync(TestReplica.Timeout);

        var (okStatus, ok) = await TestReplica.GetAsync(client, "/health");
        Assert.Equal(200, okStatus);
        Assert.Equal("ok", ok.GetProperty("status").GetString());
        Assert.Equal("bitnet", ok.GetProperty("backend").GetString());
        Assert.Equal(TestReplica.ModelId, ok.GetProperty("model").GetString());
        foreach (var field in new[] { "active_requests", "queue_depth", "ttft_p50_ms", "tokens_per_second", "memory_bandwidth_utilization" })
        {
            Assert.True(ok.TryGetProperty(field, out _), field);
        }
    }

    [Fact]
    public async Task Health_QueueThresholdZero_Returns503Overloaded()
    {
        await using var host = await TestReplica.StartAsync(o => o with { OverloadQueueThreshold = 0 });
        using var client = TestReplica.Client(host);

        var (status, body) = await TestReplica.GetAsync(client, "/health");

        Assert.Equal(503, status);
        Assert.Equal("overloaded", body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Health_BandwidthThresholdZero_Returns503Overloaded()
    {
        await using var host = await TestReplica.StartAsync(o => o with { OverloadBandwidthThreshold = 0 });
        using var client = TestReplica.Client(host);

        var (status, body) = await TestReplica.GetAsync(client, "/health");

        Assert.Equal(503, status);
        Assert.Equal("overloaded", body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Health_AfterTraffic_ReportsTtftAndThroughput()
    {
        await using var host = await TestReplica.StartAsync();
        using var client = TestReplica.Client(host);
        for (var i = 0; i < 3; i++)
        {
            var (status, _, _) = await TestReplica.PostAsync(client, "/v1/completions", TestReplica.Json(new { prompt = "Count", max_tokens = 8 }));
            Assert.Equal(200, status);
        }

        var (_, health) = await TestReplica.GetAsync(client, "/health");

        Assert.True(health.GetProperty("ttft_p50_ms").GetDouble() > 0);
        Assert.True(health.GetProperty("tokens_per_second").GetDouble() > 0);
        Assert.True(health.GetProperty("memory_bandwidth_utilization").GetDouble() > 0);
    }
}
