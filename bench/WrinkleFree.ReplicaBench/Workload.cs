using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using WrinkleFree.Inference.Batching;
using WrinkleFree.Inference.Sampling;

namespace WrinkleFree.ReplicaBench;

/// <summary>
/// The same greedy workload run two ways: <c>clients</c> concurrent callers, each sending <c>requests</c> requests one after
/// another, either straight into an <see cref="InferenceEngine"/> or as streaming HTTP requests to a replica on loopback.
/// Greedy decoding over identical prompts makes both paths generate exactly the same tokens.
/// </summary>
internal sealed class Workload(int requests, int maxTokens)
{
    public static string Prompt(int client, int request) =>
        $"Client {client} asks question {request}: explain why ternary weights make CPU inference memory-bound.";

    public async Task<RunResult> EngineAsync(InferenceEngine engine, int clients)
    {
        var tokenizer = engine.Model.Tokenizer;
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            long tokens = 0;
            var ttft = new List<double>();
            for (var r = 0; r < requests; r++)
            {
                var start = Stopwatch.GetTimestamp();
                var first = true;
                var request = new GenerationRequest
                {
                    PromptTokens = tokenizer.Encode(Prompt(c, r)),
                    MaxTokens = maxTokens,
                    Sampling = new SamplingOptions { Temperature = 0 },
                };
                await foreach (var u in engine.GenerateAsync(request))
                {
                    if (first)
                    {
                        ttft.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
                        first = false;
                    }

                    tokens += u.TokenId >= 0 ? 1 : 0;
                }
            }

            return (tokens, ttft);
        })));
        return new RunResult(results.Sum(r => r.tokens), clock.Elapsed.TotalSeconds, [.. results.SelectMany(r => r.ttft)]);
    }

    public async Task<RunResult> HttpAsync(HttpClient http, string model, int clients)
    {
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            long tokens = 0;
            var ttft = new List<double>();
            for (var r = 0; r < requests; r++)
            {
                var start = Stopwatch.GetTimestamp();
                var body = JsonSerializer.Serialize(new
                {
                    model,
                    prompt = Prompt(c, r),
                    max_tokens = maxTokens,
                    temperature = 0,
                    stream = true,
                    stream_options = new { include_usage = true },
                });
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                response.EnsureSuccessStatusCode();
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
                var first = true;
                while (await reader.ReadLineAsync() is { } line)
                {
                    if (!line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    if (first)
                    {
                        ttft.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
                        first = false;
                    }

                    if (line.Contains("\"usage\"", StringComparison.Ordinal))
                    {
                        using var usage = JsonDocument.Parse(line.AsMemory(6));
                        tokens += usage.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt64();
                    }
                }
            }

            return (tokens, ttft);
        })));
        return new RunResult(results.Sum(r => r.tokens), clock.Elapsed.TotalSeconds, [.. results.SelectMany(r => r.ttft)]);
    }
}
