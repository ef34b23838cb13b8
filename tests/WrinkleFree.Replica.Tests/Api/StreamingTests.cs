using System.Text;
using System.Text.Json;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>Many concurrent SSE streams, and clients that hang up mid-stream.</summary>
public sealed class StreamingTests
{
    private static HttpRequestMessage StreamRequest(string path, object body) => new(HttpMethod.Post, path)
    {
        Content = new StringContent(TestReplica.Json(body), Encoding.UTF8, "application/json"),
    };

    [Fact]
    public async Task ChatStream_32Concurrent_AllCompleteWithExactUsage()
    {
        await using var host = await TestReplica.StartAsync(o => o with { MaxSequences = 16 });
        using var client = TestReplica.Client(host);

        async Task<(int Chunks, int PromptTokens, int CompletionTokens, string? Finish)> RunOne(int i)
        {
            using var request = StreamRequest("/v1/chat/completions", new
            {
                model = TestReplica.ModelId,
                messages = new[] { new { role = "user", content = $"Request number {i}" } },
                max_tokens = 6 + (i % 5),
                temperature = 0.8,
                seed = i,
                stream = true,
                stream_options = new { include_usage = true },
                logprobs = true,
            });
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestReplica.Timeout);
            Assert.True(response.IsSuccessStatusCode, $"stream {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var (events, done) = await TestReplica.ReadSseAsync(response);
            Assert.True(done, $"stream {i} ended after {events.Count} events without [DONE]; last: {(events.Count > 0 ? events[^1].ToString() : "none")}");
            var tokens = events.Where(e => e.GetProperty("choices").GetArrayLength() > 0)
                .Sum(e => e.GetProperty("choices")[0].GetProperty("logprobs") is { ValueKind: JsonValueKind.Object } l ? l.GetProperty("content").GetArrayLength() : 0);
            var usage = events[^1].GetProperty("usage");
            var finish = events[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString();
            return (tokens, usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32(), finish);
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(RunOne)).WaitAsync(TestReplica.Timeout);

        for (var i = 0; i < 32; i++)
        {
            var (chunks, prompt, completion, finish) = results[i];
            Assert.True(prompt > 0);
            // One logprob entry per generated token: the stream carried every token the usage counts.
            Assert.Equal(completion, chunks);
            Assert.True(finish == "length" ? completion == 6 + (i % 5) : completion <= 6 + (i % 5), $"stream {i}: {finish} after {completion}");
        }

        var health = await TestReplica.PollHealthAsync(client, h => h.GetProperty("active_requests").GetInt32() == 0);
        Assert.Equal(0, health.GetProperty("queue_depth").GetInt32());
    }

    [Fact]
    public async Task Stream_ClientDisconnects_FreesTheSlot()
    {
        await using var host = await TestReplica.StartAsync(o => o with { MaxSequences = 1 });
        using var client = TestReplica.Client(host);

        // The stream has to be in flight when the client hangs up. 500 tokens of the tiny model take well under a second,
        // so on a loaded machine the health check can come after it finished on its own: then nothing was tested, and the
        // scenario is run again (a few times at most).
        var hungUpMidStream = false;
        for (var attempt = 0; attempt < 5 && !hungUpMidStream; attempt++)
        {
            using var request = StreamRequest("/v1/completions", new { prompt = "Go on forever", max_tokens = 500, stream = true });
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestReplica.Timeout);
            var stream = await response.Content.ReadAsStreamAsync().WaitAsync(TestReplica.Timeout);
            var buffer = new byte[64];
            Assert.True(await stream.ReadAsync(buffer).AsTask().WaitAsync(TestReplica.Timeout) > 0);
            var (_, busy) = await TestReplica.GetAsync(client, "/health");
            hungUpMidStream = busy.GetProperty("active_requests").GetInt32() == 1;
            // Hang up (mid-stream when the check above saw the request still running).
            response.Dispose();
            if (!hungUpMidStream)
            {
                await TestReplica.PollHealthAsync(client, h => h.GetProperty("active_requests").GetInt32() == 0);
            }
        }

        Assert.True(hungUpMidStream, "every attempt's stream finished before the client could hang up");

        var health = await TestReplica.PollHealthAsync(client, h => h.GetProperty("active_requests").GetInt32() == 0 && h.GetProperty("queue_depth").GetInt32() == 0);
        Assert.Equal("ok", health.GetProperty("status").GetString());

        // The only slot is free again: a new request completes.
        var (status, body, _) = await TestReplica.PostAsync(client, "/v1/completions", TestReplica.Json(new { prompt = "Next", max_tokens = 2 }));
        Assert.Equal(200, status);
        Assert.Equal(2, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task ChatStream_NGreaterThanOne_StreamsEveryChoiceToItsFinish()
    {
        await using var host = await TestReplica.StartAsync();
        using var client = TestReplica.Client(host);
        using var request = StreamRequest("/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "Hi" } },
            n = 3,
            max_tokens = 4,
            stream = true,
            stream_options = new { include_usage = true },
        });

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestReplica.Timeout);
        var (events, done) = await TestReplica.ReadSseAsync(response);

        Assert.True(done);
        var finishes = events.Where(e => e.GetProperty("choices").GetArrayLength() > 0)
            .Select(e => e.GetProperty("choices")[0])
            .Where(c => c.GetProperty("finish_reason").ValueKind == JsonValueKind.String)
            .Select(c => c.GetProperty("index").GetInt32())
            .Order();
        Assert.Equal([0, 1, 2], finishes);
        Assert.Equal(12, events[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }
}
