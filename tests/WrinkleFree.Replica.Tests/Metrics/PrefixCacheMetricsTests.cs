using System.Globalization;
using System.Text.RegularExpressions;

namespace WrinkleFree.Replica.Tests.Metrics;

/// <summary>/metrics reports how much prefill the prefix cache saved.</summary>
public sealed partial class PrefixCacheMetricsTests
{
    private static readonly string Prompt = string.Concat(Enumerable.Repeat("the same long system prompt for every request ", 20));

    [Fact]
    public async Task Metrics_SamePromptTwice_CountsHitTokens()
    {
        await using var host = await TestReplica.StartAsync();
        using var client = TestReplica.Client(host);
        for (var i = 0; i < 2; i++)
        {
            var (status, _, _) = await TestReplica.PostAsync(client, "/v1/completions", TestReplica.Json(new { prompt = Prompt, max_tokens = 2 }));
            Assert.Equal(200, status);
        }

        var text = await client.GetStringAsync("/metrics").WaitAsync(TestReplica.Timeout);
        var prompt = Value(text, "wf_prefix_cache_prompt_tokens_total");
        var hit = Value(text, "wf_prefix_cache_hit_tokens_total");
        var prefill = Value(text, "wf_prefill_tokens_total");
        Assert.True(hit >= 64, $"hit tokens {hit}");
        Assert.Equal(0, hit % 64);
        Assert.Equal(prompt, hit + prefill);
        Assert.True(Value(text, "wf_prefix_cache_pages") >= 1);
    }

    [Fact]
    public async Task Metrics_PrefixCacheOff_CountsNoHits()
    {
        await using var host = await TestReplica.StartAsync(o => o with { PrefixCache = false });
        using var client = TestReplica.Client(host);
        for (var i = 0; i < 2; i++)
        {
            var (status, _, _) = await TestReplica.PostAsync(client, "/v1/completions", TestReplica.Json(new { prompt = Prompt, max_tokens = 2 }));
            Assert.Equal(200, status);
        }

        var text = await client.GetStringAsync("/metrics").WaitAsync(TestReplica.Timeout);
        Assert.Equal(0, Value(text, "wf_prefix_cache_hit_tokens_total"));
        Assert.Equal(Value(text, "wf_prefix_cache_prompt_tokens_total"), Value(text, "wf_prefill_tokens_total"));
        Assert.True(Value(text, "wf_prefill_tokens_total") > 0);
    }

    private static double Value(string text, string name)
    {
        var match = SampleLine().Matches(text).FirstOrDefault(m => m.Groups[1].Value == name)
            ?? throw new Xunit.Sdk.XunitException($"{name} is not in /metrics");
        return double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^(wf_[a-z_]+) ([0-9.eE+-]+)$", RegexOptions.Multiline)]
    private static partial Regex SampleLine();
}
