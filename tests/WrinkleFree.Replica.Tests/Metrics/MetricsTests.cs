using WrinkleFree.Replica.Metrics;

namespace WrinkleFree.Replica.Tests.Metrics;

/// <summary>/metrics exports every wf_* metric, per replica.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_AfterAStream_ExposesEveryNameAndCountsTokens()
    {
        await using var host = await TestReplica.StartAsync();
        await using var other = await TestReplica.StartAsync();
        using var client = TestReplica.Client(host);
        var (status, _, _) = await TestReplica.PostAsync(client, "/v1/completions", TestReplica.Json(new { prompt = "Hello", max_tokens = 5, stream = false }));
        Assert.Equal(200, status);

        var text = await client.GetStringAsync("/metrics").WaitAsync(TestReplica.Timeout);

        foreach (var name in MetricNames.All)
        {
            Assert.Contains($"# TYPE {name} ", text);
        }

        Assert.Contains("wf_generated_tokens_total 5", text);
        Assert.Contains("wf_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 1", text);
        Assert.Contains("wf_time_to_first_token_seconds_count 1", text);
        Assert.Contains("wf_inter_token_latency_seconds_count 4", text);

        // A second replica in the same process has its own registry.
        using var otherClient = TestReplica.Client(other);
        var otherText = await otherClient.GetStringAsync("/metrics").WaitAsync(TestReplica.Timeout);
        Assert.Contains("wf_generated_tokens_total 0", otherText);
    }
}
