using WrinkleFree.Service.Cost;

namespace WrinkleFree.Service.Tests.Cost;

public sealed class PrometheusCountersTests
{
    [Fact]
    public void ReadTokens_ReplicaPage_SumsOurCountersOverLabels()
    {
        const string page = """
            # HELP wf_generated_tokens_total Generated tokens.
            # TYPE wf_generated_tokens_total counter
            wf_generated_tokens_total{model="a"} 1200
            wf_generated_tokens_total{model="b}\" {x"} 34
            wf_generated_tokens_total_created 1.7e9
            wf_prompt_tokens_total 5e3 1700000000000
            wf_tokens_per_second 99
            """;

        Assert.Equal((1234L, 5000L), PrometheusCounters.ReadTokens(page));
    }

    [Fact]
    public void ReadTokens_VllmPage_ReadsVllmCounters()
    {
        const string page = """
            vllm:prompt_tokens_total{model_name="m"} 40.0
            vllm:generation_tokens_total{model_name="m"} 17.0
            """;

        Assert.Equal((17L, 40L), PrometheusCounters.ReadTokens(page));
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only comments\nother_metric 3\n")]
    [InlineData("wf_generated_tokens_total{model=\"unterminated 3\n")]
    [InlineData("wf_generated_tokens_total NaN\n")]
    public void ReadTokens_NoUsableCounter_IsNull(string page) => Assert.Null(PrometheusCounters.ReadTokens(page));
}
