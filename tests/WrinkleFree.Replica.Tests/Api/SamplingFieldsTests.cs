using System.Text.Json;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>logit_bias, best_of and suffix: each changes the answer the way OpenAI defines it, or is a 400 naming it.</summary>
public sealed class SamplingFieldsTests : IAsyncLifetime
{
    private ReplicaHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await TestReplica.StartAsync();
        _client = TestReplica.Client(_host);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private async Task<int[]> TokenizeAsync(HttpClient client, string text, bool addSpecial = false)
    {
        var (_, body, _) = await TestReplica.PostAsync(client, "/tokenize", TestReplica.Json(new { content = text, add_special = addSpecial }));
        return [.. body.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32())];
    }

    private async Task<string> DetokenizeAsync(int[] tokens)
    {
        var (_, body, _) = await TestReplica.PostAsync(_client, "/detokenize", TestReplica.Json(new { tokens }));
        return body.GetProperty("content").GetString()!;
    }

    [Fact]
    public async Task LogitBias_PlusHundredOnOneToken_GreedyOutputIsThatToken_OnBothEndpoints()
    {
        var token = (await TokenizeAsync(_client, " weights"))[^1];
        var bias = new Dictionary<string, int> { [token.ToString(System.Globalization.CultureInfo.InvariantCulture)] = 100 };
        var expected = await DetokenizeAsync([token, token, token, token]);

        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = "Once upon a time", max_tokens = 4, temperature = 0, logit_bias = bias }));
        Assert.Equal(200, status);
        Assert.Equal(expected, body.GetProperty("choices")[0].GetProperty("text").GetString());

        var (unbiasedStatus, unbiased, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = "Once upon a time", max_tokens = 4, temperature = 0 }));
        Assert.Equal(200, unbiasedStatus);
        Assert.NotEqual(expected, unbiased.GetProperty("choices")[0].GetProperty("text").GetString());

        var (chatStatus, chat, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions", TestReplica.Json(new
        {
            messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 4, temperature = 0.8, seed = 3, logit_bias = bias,
        }));
        Assert.Equal(200, chatStatus);
        Assert.Equal(expected, chat.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task LogitBias_MinusHundredOnAllButOneToken_SampledOutputIsThatToken()
    {
        var keep = (await TokenizeAsync(_client, " time"))[^1];
        var (_, models) = await TestReplica.GetAsync(_client, "/v1/models");
        var vocab = SyntheticShape.Tiny.VocabSize;
        var bias = Enumerable.Range(0, vocab).Where(id => id != keep).ToDictionary(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture), _ => -100);

        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = "hello", max_tokens = 3, temperature = 1.5, seed = 11, logit_bias = bias }));

        Assert.Equal(200, status);
        Assert.Equal(await DetokenizeAsync([keep, keep, keep]), body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal("list", models.GetProperty("object").GetString());
    }

    [Theory]
    [InlineData("{\"x\": 1}", "is not a token id")]
    [InlineData("{\"-3\": 1}", "is not a token id")]
    [InlineData("{\"5\": 101}", "from -100 to 100")]
    [InlineData("{\"5\": \"1\"}", "from -100 to 100")]
    [InlineData("[1, 2]", "must be an object")]
    [InlineData("{\"999999\": 1}", "outside the vocabulary")]
    public Task LogitBias_Bad_400NamesLogitBias(string bias, string why) =>
        TestReplica.AssertBadRequestAsync(_client, "/v1/completions", $"{{\"prompt\": \"hi\", \"max_tokens\": 2, \"logit_bias\": {bias}}}", "logit_bias", why);

    [Fact]
    public async Task BestOf_ReturnsTheCandidateWithTheHighestCumulativeLogprob_UsageCountsEveryCandidate()
    {
        // best_of candidates draw from seed, seed + 1, ...: the same draws as n choices with that seed, which show their logprobs.
        var (allStatus, all, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = "a", max_tokens = 6, temperature = 2, seed = 5, n = 4, logprobs = 0 }));
        Assert.Equal(200, allStatus);
        var candidates = all.GetProperty("choices").EnumerateArray()
            .Select(c => (Text: c.GetProperty("text").GetString(), Score: c.GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray().Sum(x => x.GetDouble())))
            .ToList();
        Assert.True(candidates.Select(c => c.Text).Distinct().Count() > 1, "the candidates should differ at this temperature");
        var ranked = candidates.OrderByDescending(c => c.Score).ToList();

        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = "a", max_tokens = 6, temperature = 2, seed = 5, n = 2, best_of = 4 }));

        Assert.Equal(200, status);
        var choices = body.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal([0, 1], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.Equal([ranked[0].Text, ranked[1].Text], choices.Select(c => c.GetProperty("text").GetString()));
        // The client did not ask for logprobs: they were computed to rank, not shown.
        Assert.All(choices, c => Assert.Equal(JsonValueKind.Null, c.GetProperty("logprobs").ValueKind));
        Assert.Equal(all.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Theory]
    [InlineData("\"n\": 3, \"best_of\": 2", "must be at least n")]
    [InlineData("\"best_of\": 2, \"stream\": true", "cannot be streamed")]
    [InlineData("\"best_of\": 0", "best_of")]
    public Task BestOf_Bad_400NamesBestOf(string fields, string why) =>
        TestReplica.AssertBadRequestAsync(_client, "/v1/completions", $"{{\"prompt\": \"hi\", \"max_tokens\": 2, {fields}}}", "best_of", why);

    [Fact]
    public async Task Suffix_ModelWithoutFimTokens_400NamesSuffix()
    {
        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = "def f(x):", suffix = "    return y", max_tokens = 2 }));

        Assert.Equal(400, status);
        Assert.Equal("suffix", body.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("fill-in-the-middle", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Suffix_ModelWithFimTokens_PromptIsPrefixSuffixMiddle()
    {
        // The tiny vocabulary's last control tokens stand in for a code model's <|fim_prefix|>, <|fim_suffix|>, <|fim_middle|>.
        using var dir = new WrinkleFree.Testing.TempDirectory("wf-fim");
        var path = Path.Combine(dir.Path, "fim.gguf");
        var vocab = SyntheticShape.Tiny.VocabSize;
        var specials = BpeVocabularyBuilder.DefaultSpecialTokens.Count;
        int Id(string text) => vocab - specials + BpeVocabularyBuilder.DefaultSpecialTokens.ToList().IndexOf(text);
        SyntheticModel.Write(path, SyntheticShape.Tiny, GgmlType.TQ2_0, seed: 1, extraMetadata: new Dictionary<string, GgufValue>
        {
            ["tokenizer.ggml.fim_pre_token_id"] = GgufValue.Of((uint)Id("<|start_header_id|>")),
            ["tokenizer.ggml.fim_suf_token_id"] = GgufValue.Of((uint)Id("<|end_header_id|>")),
            ["tokenizer.ggml.fim_mid_token_id"] = GgufValue.Of((uint)Id("<|im_start|>")),
        });
        await using var host = await TestReplica.StartAsync(o => o with { ModelPath = path });
        using var client = TestReplica.Client(host);

        var (status, body, _) = await TestReplica.PostAsync(client, "/v1/completions", TestReplica.Json(new { prompt = "def f(x):", suffix = "    return y", max_tokens = 3, temperature = 0 }));

        Assert.Equal(200, status);
        // BOS, prefix token, the prompt, suffix token, the suffix, middle token.
        var expected = 1 + 1 + (await TokenizeAsync(client, "def f(x):")).Length + 1 + (await TokenizeAsync(client, "    return y")).Length + 1;
        Assert.Equal(expected, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var (plainStatus, plain, _) = await TestReplica.PostAsync(client, "/v1/completions", TestReplica.Json(new { prompt = "def f(x):", max_tokens = 3, temperature = 0 }));
        Assert.Equal(200, plainStatus);
        Assert.NotEqual(expected, plain.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Usage_SecondRequestWithTheSamePromptPrefix_ReportsCachedTokens()
    {
        var prompt = string.Join(' ', Enumerable.Range(0, 60).Select(i => $"fact {i}."));
        var (firstStatus, first, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt, max_tokens = 2, temperature = 0 }));
        var (secondStatus, second, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = prompt + " more", max_tokens = 2, temperature = 0 }));

        Assert.Equal(200, firstStatus);
        Assert.Equal(200, secondStatus);
        Assert.Equal(0, first.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        var cached = second.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32();
        // Whole 64-token pages of the shared prefix are reused; the rest is computed.
        Assert.True(cached >= 64 && cached % 64 == 0 && cached < second.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), $"cached {cached}");
    }
}
