using System.Net;
using System.Text.Json;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>/v1/completions over raw HTTP (the OpenAI .NET client has no typed legacy-completions call), tokenize and models.</summary>
public sealed class CompletionsTests : IAsyncLifetime
{
    private ReplicaHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await TestReplica.StartAsync(o => o with { ContextSize = 64 });
        _client = TestReplica.Client(_host);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private async Task<int> CountTokensAsync(string text)
    {
        var (_, body, _) = await TestReplica.PostAsync(_client, "/tokenize", TestReplica.Json(new { content = text, add_special = true }));
        return body.GetProperty("tokens").GetArrayLength();
    }

    [Fact]
    public async Task Completions_StringPrompt_ReturnsExactUsage()
    {
        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { model = TestReplica.ModelId, prompt = "Once upon a time", max_tokens = 7, temperature = 0 }));

        Assert.Equal(200, status);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        var usage = body.GetProperty("usage");
        Assert.Equal(await CountTokensAsync("Once upon a time"), usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(7, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + 7, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_MultiplePromptsAndN_FanOutAsSeparateChoices()
    {
        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = new[] { "alpha", "beta gamma" }, n = 2, max_tokens = 3, temperature = 0 }));

        Assert.Equal(200, status);
        var choices = body.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2, 3], choices.Select(c => c.GetProperty("index").GetInt32()));
        // Greedy: both choices of one prompt say the same thing.
        Assert.Equal(choices[0].GetProperty("text").GetString(), choices[1].GetProperty("text").GetString());
        var usage = body.GetProperty("usage");
        Assert.Equal(await CountTokensAsync("alpha") + await CountTokensAsync("beta gamma"), usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(12, usage.GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_TokenIdPromptAndEcho_EchoesTheDecodedPrompt()
    {
        var (_, tokenized, _) = await TestReplica.PostAsync(_client, "/tokenize", TestReplica.Json(new { content = "Hello world" }));
        var ids = tokenized.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();

        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = ids, max_tokens = 2, echo = true, temperature = 0 }));

        Assert.Equal(200, status);
        Assert.StartsWith("Hello world", body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(ids.Length, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    private async Task<int[]> TokenizeAsync(string text)
    {
        var (_, body, _) = await TestReplica.PostAsync(_client, "/tokenize", TestReplica.Json(new { content = text }));
        return body.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
    }

    [Fact]
    public async Task Completions_EchoWithLogprobs_ScoresEveryPromptToken_AsLmEvalHarnessAsks()
    {
        // lm-evaluation-harness' loglikelihood request: the context plus continuation as the prompt, echo, logprobs, and
        // max_tokens 0 (or 1). The first prompt token has no logprob; every later one is scored given the ones before it.
        var ids = await TokenizeAsync("The quick brown fox jumps over the lazy dog");
        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions",
            TestReplica.Json(new { prompt = ids, max_tokens = 0, echo = true, logprobs = 1, temperature = 0 }));

        Assert.Equal(200, status);
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        var logprobs = choice.GetProperty("logprobs");
        var tokens = logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var tokenLogprobs = logprobs.GetProperty("token_logprobs").EnumerateArray().ToArray();
        var top = logprobs.GetProperty("top_logprobs").EnumerateArray().ToArray();
        var offsets = logprobs.GetProperty("text_offset").EnumerateArray().Select(o => o.GetInt32()).ToArray();
        Assert.Equal(ids.Length, tokens.Length);
        Assert.Equal(JsonValueKind.Null, tokenLogprobs[0].ValueKind);
        Assert.Equal(JsonValueKind.Null, top[0].ValueKind);
        Assert.All(tokenLogprobs[1..], l => Assert.True(l.GetDouble() < 0));
        Assert.All(top[1..], t => Assert.Single(t.EnumerateObject()));
        // The echoed text is the prompt, and each offset is where its token's text starts.
        var text = choice.GetProperty("text").GetString()!;
        Assert.Equal("The quick brown fox jumps over the lazy dog", text);
        Assert.Equal(0, offsets[0]);
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.Equal(tokens[i], text.Substring(offsets[i], (i + 1 < ids.Length ? offsets[i + 1] : text.Length) - offsets[i]));
        }

        var usage = body.GetProperty("usage");
        Assert.Equal(ids.Length, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_TextPromptEchoWithLogprobs_SpellsThePromptAsSent_WithTheBosAsAnEntryWithoutText()
    {
        const string prompt = "Once upon a time";
        var request = new { prompt, max_tokens = 0, echo = true, logprobs = 0 };
        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(request));
        var (_, plain, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt, max_tokens = 0, echo = true }));

        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        Assert.Equal(plain.GetProperty("choices")[0].GetProperty("text").GetString(), choice.GetProperty("text").GetString());
        Assert.Equal(prompt, choice.GetProperty("text").GetString());
        var logprobs = choice.GetProperty("logprobs");
        // The model adds a BOS to text prompts: one entry more than the text's own tokens, and no text for it.
        Assert.Equal((await TokenizeAsync(prompt)).Length + 1, await CountTokensAsync(prompt));
        Assert.Equal(await CountTokensAsync(prompt), logprobs.GetProperty("tokens").GetArrayLength());
        Assert.Equal(0, logprobs.GetProperty("text_offset")[1].GetInt32());
        Assert.Equal(body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), logprobs.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public async Task Completions_EchoLogprobOfAToken_EqualsItsLogprobWhenGenerated()
    {
        var ids = await TokenizeAsync("Once upon a time");
        var (_, generated, _) = await TestReplica.PostAsync(_client, "/v1/completions",
            TestReplica.Json(new { prompt = ids, max_tokens = 1, logprobs = 1, temperature = 0 }));
        var g = generated.GetProperty("choices")[0].GetProperty("logprobs");
        var next = g.GetProperty("top_logprobs")[0].EnumerateObject().Single();
        var nextLogprob = g.GetProperty("token_logprobs")[0].GetDouble();
        var nextId = (await TokenizeAsync(g.GetProperty("tokens")[0].GetString()!)).Single();

        // The same token appended to the prompt and scored with echo (max_tokens 1: lm-eval's other form, one extra token).
        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions",
            TestReplica.Json(new { prompt = ids.Append(nextId).ToArray(), max_tokens = 1, echo = true, logprobs = 1, temperature = 0 }));

        Assert.Equal(200, status);
        var logprobs = body.GetProperty("choices")[0].GetProperty("logprobs");
        Assert.Equal(ids.Length + 2, logprobs.GetProperty("tokens").GetArrayLength());
        Assert.Equal(nextLogprob, logprobs.GetProperty("token_logprobs")[ids.Length].GetDouble(), 1e-3 * Math.Max(1, Math.Abs(nextLogprob)));
        // Greedy: the scored token is the most likely one at its position.
        Assert.Equal(next.Name, logprobs.GetProperty("top_logprobs")[ids.Length].EnumerateObject().Single().Name);
        Assert.Equal(1, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_EchoWithLogprobsStreamed_SendsEachPromptTokenWithItsLogprob()
    {
        var ids = await TokenizeAsync("Hello world again");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent(TestReplica.Json(new { prompt = ids, max_tokens = 2, echo = true, logprobs = 0, stream = true, temperature = 0 }), System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestReplica.Timeout);
        var (events, done) = await TestReplica.ReadSseAsync(response);

        Assert.True(done);
        var scored = events.Select(e => e.GetProperty("choices")[0].GetProperty("logprobs")).Where(l => l.ValueKind == JsonValueKind.Object).ToList();
        Assert.Equal(ids.Length + 2, scored.Count);
        Assert.Equal(JsonValueKind.Null, scored[0].GetProperty("token_logprobs")[0].ValueKind);
        Assert.All(scored.Skip(1), l => Assert.True(l.GetProperty("token_logprobs")[0].GetDouble() <= 0));
        Assert.StartsWith("Hello world again", string.Concat(events.Select(e => e.GetProperty("choices")[0].GetProperty("text").GetString())));
    }

    [Fact]
    public async Task Completions_Logprobs_ReturnsTokensOffsetsAndAlternatives()
    {
        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = "The", max_tokens = 3, logprobs = 2, temperature = 0 }));

        Assert.Equal(200, status);
        var logprobs = body.GetProperty("choices")[0].GetProperty("logprobs");
        Assert.Equal(3, logprobs.GetProperty("tokens").GetArrayLength());
        Assert.Equal(3, logprobs.GetProperty("token_logprobs").GetArrayLength());
        Assert.Equal(0, logprobs.GetProperty("text_offset")[0].GetInt32());
        Assert.All(logprobs.GetProperty("top_logprobs").EnumerateArray(), t => Assert.True(t.EnumerateObject().Count() is >= 1 and <= 2));
    }

    [Fact]
    public async Task Completions_StreamWithUsage_EndsWithUsageChunkAndDone()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent(TestReplica.Json(new { prompt = "Hi", max_tokens = 5, stream = true, stream_options = new { include_usage = true } }), System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestReplica.Timeout);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var (events, done) = await TestReplica.ReadSseAsync(response);
        Assert.True(done);
        var usage = events[^1].GetProperty("usage");
        Assert.Equal(0, events[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal(5, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal("length", events[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Completions_StopString_CutsTheTextBeforeItAndFinishesWithStop()
    {
        var (_, free, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = "Hello world", max_tokens = 8, temperature = 0 }));
        var text = free.GetProperty("choices")[0].GetProperty("text").GetString()!;
        Assert.True(text.Length >= 2, text);
        var stop = text.Substring(1, 1);

        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = "Hello world", max_tokens = 8, temperature = 0, stop = new[] { stop } }));

        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Chat_TextPartContent_EqualsTheSameStringContent()
    {
        var asString = new { messages = new object[] { new { role = "user", content = "Hello there" } }, max_tokens = 4, temperature = 0 };
        var asParts = new
        {
            messages = new object[] { new { role = "user", content = new object[] { new { type = "text", text = "Hello " }, new { type = "text", text = "there" } } } },
            max_tokens = 4,
            temperature = 0,
        };

        var (status1, one, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions", TestReplica.Json(asString));
        var (status2, two, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions", TestReplica.Json(asParts));

        Assert.Equal(200, status1);
        Assert.Equal(200, status2);
        Assert.Equal("chat.completion", two.GetProperty("object").GetString());
        Assert.Equal(one.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), two.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(one.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), two.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_PromptOverTheContext_Returns400NamingTheLimit()
    {
        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/completions", TestReplica.Json(new { prompt = string.Join(' ', Enumerable.Repeat("word", 100)), max_tokens = 4 }));

        Assert.Equal(400, status);
        var error = body.GetProperty("error");
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("prompt", error.GetProperty("param").GetString());
        Assert.Contains("64", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task ModelsTokenizeDetokenize_RoundTrip()
    {
        var (status, models) = await TestReplica.GetAsync(_client, "/v1/models");
        Assert.Equal(200, status);
        Assert.Equal(TestReplica.ModelId, models.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.True(models.GetProperty("data")[0].GetProperty("context_length").GetInt32() >= 64);
        Assert.Equal(models.GetProperty("data")[0].GetProperty("context_length").GetInt32(), models.GetProperty("data")[0].GetProperty("max_model_len").GetInt32());

        var (_, tokens, _) = await TestReplica.PostAsync(_client, "/tokenize", TestReplica.Json(new { content = "ternary weights", with_pieces = true }));
        var ids = tokens.GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("id").GetInt32()).ToArray();
        Assert.Equal("ternary weights", string.Concat(tokens.GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("piece").GetString())));
        var (_, text, _) = await TestReplica.PostAsync(_client, "/detokenize", TestReplica.Json(new { tokens = ids }));
        Assert.Equal("ternary weights", text.GetProperty("content").GetString());
    }

    [Fact]
    public async Task Tokenize_ManyConcurrentBodies_EachReadsItsOwnBody()
    {
        // Request bodies arrive in pooled pipe buffers that other connections reuse; each parsed body must stay its own.
        async Task CheckAsync(int i)
        {
            var content = $"request {i}: " + new string((char)('a' + i % 26), 200 + i);
            var (status, body, _) = await TestReplica.PostAsync(_client, "/tokenize", TestReplica.Json(new { content, with_pieces = true }));
            Assert.Equal(200, status);
            Assert.Equal(content, string.Concat(body.GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("piece").GetString())));
        }

        await Task.WhenAll(Enumerable.Range(0, 200).Select(CheckAsync)).WaitAsync(TestReplica.Timeout);
    }

    [Fact]
    public async Task Completions_QueueFull_Returns429WithRetryAfter()
    {
        await using var host = await TestReplica.StartAsync(o => o with { MaxSequences = 1, MaxQueue = 0 });
        using var client = TestReplica.Client(host);
        using var first = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent(TestReplica.Json(new { prompt = "Hi", max_tokens = 500, stream = true }), System.Text.Encoding.UTF8, "application/json"),
        };
        // Headers arrive with the first token, so the first request holds the only slot from here on.
        using var running = await client.SendAsync(first, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestReplica.Timeout);

        var (status, body, response) = await TestReplica.PostAsync(client, "/v1/completions", TestReplica.Json(new { prompt = "Hi", max_tokens = 2 }));

        Assert.Equal(429, status);
        Assert.Equal("queue_full", body.GetProperty("error").GetProperty("code").GetString());
        Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, running.StatusCode);
    }
}
