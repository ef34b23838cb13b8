using System.Text.Json;
using WrinkleFree.FakeUpstream;
using WrinkleFree.Inference.Sampling;
using WrinkleFree.Replica.Backends;
using WrinkleFree.Replica.Backends.Vllm;
using WrinkleFree.Replica.Chat;
using WrinkleFree.Testing;
using static WrinkleFree.Replica.Tests.Backends.Vllm.VllmTestSupport;

namespace WrinkleFree.Replica.Tests.Backends.Vllm;

/// <summary>
/// Contract tests of the vllm backend against <see cref="FakeUpstreamServer"/>, a real Kestrel server speaking vLLM's
/// OpenAI-compatible protocol (vLLM itself cannot run here).
/// </summary>
public sealed class VllmBackendTests
{
    [Fact]
    public async Task GenerateAsync_TextPrompt_ReturnsTokensFinishReasonAndExactUsage()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));

        var events = await CollectAsync(backend.GenerateAsync(new GenerationInput { PromptText = "hello world", MaxTokens = 4 }, CancellationToken.None));

        Assert.Equal(" tok0 tok1 tok2 tok3", string.Concat(events.Select(e => e.Text)));
        var last = events[^1];
        Assert.Equal("length", last.FinishReason);
        Assert.Equal(11, last.PromptTokens);
        Assert.Equal(4, last.CompletionTokens);
        Assert.All(events[..^1], e => Assert.Null(e.FinishReason));

        using var sent = JsonDocument.Parse(fake.LastRequestBody!);
        Assert.True(sent.RootElement.GetProperty("stream").GetBoolean());
        Assert.True(sent.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal("fake-model", sent.RootElement.GetProperty("model").GetString());
        Assert.Equal(4, sent.RootElement.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public async Task GenerateAsync_SuffixAndLogitBias_AreForwardedForTheUpstreamToActOn()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));

        await CollectAsync(backend.GenerateAsync(new GenerationInput
        {
            PromptText = "def f(x):",
            Suffix = "    return y",
            MaxTokens = 2,
            Sampling = new SamplingOptions { LogitBias = new Dictionary<int, float> { [42] = -100, [7] = 2.5f } },
        }, CancellationToken.None));

        using var sent = JsonDocument.Parse(fake.LastRequestBody!);
        Assert.Equal("    return y", sent.RootElement.GetProperty("suffix").GetString());
        Assert.Equal(-100, sent.RootElement.GetProperty("logit_bias").GetProperty("42").GetDouble());
        Assert.Equal(2.5, sent.RootElement.GetProperty("logit_bias").GetProperty("7").GetDouble());
    }

    [Fact]
    public async Task ContextLength_UpstreamListsMaxModelLen_IsKnownOnceReady()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));

        Assert.Equal(4096, backend.ContextLength);
    }

    [Fact]
    public async Task GenerateAsync_Streaming_YieldsTheFirstTokenWhileTheUpstreamIsStillGenerating()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));

        // The fake stalls after one token until the client leaves, so the first event can only come from a live stream.
        await using var stream = backend.GenerateAsync(new GenerationInput { PromptText = "[hang]", MaxTokens = 8 }, CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Deadline));
        Assert.Equal(" tok0", stream.Current.Text);
        Assert.Null(stream.Current.FinishReason);
    }

    [Fact]
    public async Task GenerateAsync_Cancelled_AbortsTheUpstreamRequestAndFreesTheSlot()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));
        using var cts = new CancellationTokenSource();

        var stream = backend.GenerateAsync(new GenerationInput { PromptText = "[hang]", MaxTokens = 8 }, cts.Token).GetAsyncEnumerator(CancellationToken.None);
        Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Deadline));
        Assert.Equal(1, backend.InFlight);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.MoveNextAsync().AsTask().WaitAsync(Deadline));
        await stream.DisposeAsync();

        await fake.FirstAbort.WaitAsync(Deadline);
        Assert.Equal(1, fake.AbortedRequests);
        Assert.Equal(0, backend.InFlight);
    }

    [Fact]
    public async Task GenerateAsync_ConsumerStopsEarly_AbortsTheUpstreamRequest()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));

        await foreach (var e in backend.GenerateAsync(new GenerationInput { PromptText = "[hang]", MaxTokens = 8 }, CancellationToken.None))
        {
            Assert.Equal(" tok0", e.Text);
            break;
        }

        await fake.FirstAbort.WaitAsync(Deadline);
        Assert.Equal(1, fake.AbortedRequests);
    }

    [Fact]
    public async Task GenerateAsync_ChatWithStop_ForwardsMessagesAndStopsAtTheStopString()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));
        var input = new GenerationInput
        {
            Messages = [new ChatMessage("system", "be brief"), new ChatMessage("user", "hi")],
            Stop = [" tok2"],
            MaxTokens = 10,
            Sampling = new SamplingOptions { Temperature = 0.5f, TopK = 7, Seed = 42 },
        };

        var events = await CollectAsync(backend.GenerateAsync(input, CancellationToken.None));

        Assert.Equal(" tok0 tok1", string.Concat(events.Select(e => e.Text)));
        Assert.Equal("stop", events[^1].FinishReason);
        Assert.Equal(2, events[^1].CompletionTokens);
        Assert.Equal("be brief\nhi".Length, events[^1].PromptTokens);

        using var sent = JsonDocument.Parse(fake.LastRequestBody!);
        var root = sent.RootElement;
        Assert.Equal("user", root.GetProperty("messages")[1].GetProperty("role").GetString());
        Assert.Equal(" tok2", root.GetProperty("stop")[0].GetString());
        Assert.Equal(0.5, root.GetProperty("temperature").GetDouble(), 6);
        Assert.Equal(7, root.GetProperty("top_k").GetInt32());
        Assert.Equal(42, root.GetProperty("seed").GetInt64());
        Assert.False(root.TryGetProperty("min_p", out _));
    }

    [Fact]
    public async Task GenerateAsync_TokenPromptWithLogprobs_ReturnsLogprobsAndAlternatives()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));
        var input = new GenerationInput { PromptTokens = [5, 6, 7], MaxTokens = 2, Sampling = new SamplingOptions { Logprobs = true, TopLogprobs = 2 } };

        var events = await CollectAsync(backend.GenerateAsync(input, CancellationToken.None));

        Assert.Equal(3, events.Count);
        Assert.Equal(-0.25f, events[0].Logprob);
        Assert.Equal(" tok0", events[0].TokenText);
        Assert.Equal([new TopLogprob(" tok0", -0.25f), new TopLogprob(" alt", -1.25f)], events[0].TopLogprobs!);
        Assert.Equal(-0.5f, events[1].Logprob);
        Assert.Equal(3, events[^1].PromptTokens);
        using var sent = JsonDocument.Parse(fake.LastRequestBody!);
        Assert.Equal(2, sent.RootElement.GetProperty("logprobs").GetInt32());
        Assert.Equal(3, sent.RootElement.GetProperty("prompt").GetArrayLength());
    }

    [Fact]
    public async Task GenerateAsync_ChatWithLogprobs_ReadsTheChatLogprobShape()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));
        var input = new GenerationInput { Messages = [new ChatMessage("user", "x")], MaxTokens = 1, Sampling = new SamplingOptions { Logprobs = true, TopLogprobs = 1 } };

        var events = await CollectAsync(backend.GenerateAsync(input, CancellationToken.None));

        Assert.Equal(" tok0", events[0].Text);
        Assert.Equal(-0.25f, events[0].Logprob);
        Assert.Equal([new TopLogprob(" tok0", -0.25f)], events[0].TopLogprobs!);
        using var sent = JsonDocument.Parse(fake.LastRequestBody!);
        Assert.True(sent.RootElement.GetProperty("logprobs").GetBoolean());
        Assert.Equal(1, sent.RootElement.GetProperty("top_logprobs").GetInt32());
    }

    [Fact]
    public async Task GenerateAsync_Echo_PrependsThePromptText()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));

        var text = await CollectAsync(backend.GenerateAsync(new GenerationInput { PromptText = "say", MaxTokens = 1, Echo = true }, CancellationToken.None));
        var tokens = await CollectAsync(backend.GenerateAsync(new GenerationInput { PromptTokens = [104, 105], MaxTokens = 1, Echo = true }, CancellationToken.None));

        Assert.Equal("say tok0", string.Concat(text.Select(e => e.Text)));
        Assert.Equal("hi tok0", string.Concat(tokens.Select(e => e.Text)));
        Assert.Equal(1, text[^1].CompletionTokens);
    }

    [Fact]
    public async Task GenerateAsync_UpstreamWithoutUsageChunk_CountsCompletionTokensFromTheStream()
    {
        await using var fake = await StartFakeAsync(new FakeUpstreamOptions { Usage = false });
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));

        var events = await CollectAsync(backend.GenerateAsync(new GenerationInput { PromptText = "p", MaxTokens = 3 }, CancellationToken.None));

        Assert.Equal(3, events[^1].CompletionTokens);
        Assert.Equal("length", events[^1].FinishReason);
    }

    [Fact]
    public async Task GenerateAsync_Upstream400_ThrowsBackendException400WithTheUpstreamsError()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));

        var e = await Assert.ThrowsAsync<BackendException>(() => CollectAsync(backend.GenerateAsync(new GenerationInput { PromptText = "[error400]" }, CancellationToken.None)));

        Assert.Equal(400, e.Status);
        Assert.Equal("invalid_request_error", e.Type);
        Assert.Equal("prompt", e.Param);
        Assert.Equal("fake_rejected", e.Code);
        Assert.Contains("[error400]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerateAsync_ErrorChunkMidStream_ThrowsTheUpstreamsError()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));

        var e = await Assert.ThrowsAsync<BackendException>(() => CollectAsync(backend.GenerateAsync(new GenerationInput { PromptText = "[midstream-error]" }, CancellationToken.None)));

        Assert.Equal(500, e.Status);
        Assert.Contains("mid-stream", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerateAsync_UpstreamGoesSilent_Throws504AfterTheIdleTimeout()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl) with { RequestTimeout = TimeSpan.FromMilliseconds(300) });

        var e = await Assert.ThrowsAsync<BackendException>(() => CollectAsync(backend.GenerateAsync(new GenerationInput { PromptText = "[hang]" }, CancellationToken.None)));

        Assert.Equal(504, e.Status);
        await fake.FirstAbort.WaitAsync(Deadline);
    }

    [Fact]
    public async Task GenerateAsync_UpstreamStopped_Throws503WithRetryAfter()
    {
        var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));
        await fake.DisposeAsync().AsTask().WaitAsync(Deadline);

        // Whether the health loop or the refused connection notices first, the client sees a retryable 503.
        var e = await Assert.ThrowsAsync<BackendException>(() => CollectAsync(backend.GenerateAsync(new GenerationInput { PromptText = "x" }, CancellationToken.None)));

        Assert.Equal(503, e.Status);
        Assert.NotNull(e.RetryAfter);
        Assert.Contains("upstream unavailable", e.Message, StringComparison.Ordinal);
        await backend.WaitForStateAsync(BackendState.Unavailable, CancellationToken.None).WaitAsync(Deadline);
    }

    [Fact]
    public async Task StartAsync_NothingListening_StaysLoadingAndGenerateThrows503()
    {
        await using var backend = new VllmBackend(FastOptions(new Uri($"http://127.0.0.1:{UnusedPort()}")));
        await backend.StartAsync(CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(BackendState.Loading, backend.State);
        var e = await Assert.ThrowsAsync<BackendException>(() => CollectAsync(backend.GenerateAsync(new GenerationInput { PromptText = "x" }, CancellationToken.None)));
        Assert.Equal(503, e.Status);
        Assert.NotNull(e.RetryAfter);
    }

    [Fact]
    public async Task State_HealthFailsRepeatedly_GoesUnavailableThenReadyAgain()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));

        fake.Healthy = false;
        await backend.WaitForStateAsync(BackendState.Unavailable, CancellationToken.None).WaitAsync(Deadline);
        var e = await Assert.ThrowsAsync<BackendException>(() => CollectAsync(backend.GenerateAsync(new GenerationInput { PromptText = "x" }, CancellationToken.None)));
        Assert.Equal(503, e.Status);

        fake.Healthy = true;
        await backend.WaitForStateAsync(BackendState.Ready, CancellationToken.None).WaitAsync(Deadline);
        var events = await CollectAsync(backend.GenerateAsync(new GenerationInput { PromptText = "x", MaxTokens = 1 }, CancellationToken.None));
        Assert.Equal(1, events[^1].CompletionTokens);
    }

    [Fact]
    public async Task ModelId_NotOverridden_IsTheUpstreamsFirstModel()
    {
        await using var fake = await StartFakeAsync(new FakeUpstreamOptions { ModelId = "meta/llama-x" });
        await using var discovered = await StartReadyAsync(FastOptions(fake.BaseUrl));
        await using var overridden = await StartReadyAsync(FastOptions(fake.BaseUrl) with { ModelId = "public-name" });

        Assert.Equal("meta/llama-x", discovered.ModelId);
        Assert.Equal("public-name", overridden.ModelId);
        Assert.Equal("vllm", overridden.Name);

        // The upstream still gets its own name, whatever the client called the model.
        await CollectAsync(overridden.GenerateAsync(new GenerationInput { PromptText = "x", MaxTokens = 1, Model = "public-name" }, CancellationToken.None));
        using var sent = JsonDocument.Parse(fake.LastRequestBody!);
        Assert.Equal("meta/llama-x", sent.RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task TokenizeAsync_RoundTripsThroughTheUpstream()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));

        var plain = await backend.TokenizeAsync("héllo", addSpecial: false, CancellationToken.None).WaitAsync(Deadline);
        var special = await backend.TokenizeAsync("héllo", addSpecial: true, CancellationToken.None).WaitAsync(Deadline);
        var text = await backend.DetokenizeAsync(special, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(6, plain.Length);
        Assert.Equal([256, .. plain], special);
        Assert.Equal("héllo", text);
    }

    [Fact]
    public async Task TokenizeAsync_UpstreamWithoutTokenize_Throws501()
    {
        await using var fake = await StartFakeAsync(new FakeUpstreamOptions { Tokenize = false });
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));

        var tokenize = await Assert.ThrowsAsync<BackendException>(() => backend.TokenizeAsync("x", addSpecial: false, CancellationToken.None).WaitAsync(Deadline));
        var detokenize = await Assert.ThrowsAsync<BackendException>(() => backend.DetokenizeAsync([1], CancellationToken.None).WaitAsync(Deadline));

        Assert.Equal(501, tokenize.Status);
        Assert.Contains("/tokenize", tokenize.Message, StringComparison.Ordinal);
        Assert.Equal(501, detokenize.Status);
    }

    [Fact]
    public async Task GetLoad_UpstreamReportsActiveRequests_CountsRequestsFromOtherClients()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));
        Assert.Equal(new BackendLoad(0, 0, 0), backend.GetLoad());

        // Another client of the same upstream: only the upstream's /health JSON can tell this replica about it.
        using var other = new HttpClient();
        using var cts = new CancellationTokenSource(Deadline);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(fake.BaseUrl, "v1/completions"))
        {
            Content = new StringContent("""{"prompt":"[hang]","stream":true}""", System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await other.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);

        while (backend.GetLoad().ActiveRequests != 1)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), cts.Token);
        }

        Assert.Equal(0, backend.InFlight);
    }

    // Nothing listens there, and no outgoing connection takes it as a source port meanwhile.
    private static int UnusedPort() => FreePort.Next();
}
