using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WrinkleFree.FakeUpstream;

/// <summary>
/// Contract-test double for vLLM's OpenAI-compatible server (vLLM cannot run here): real Kestrel on 127.0.0.1 serving
/// /health, /v1/models, streaming /v1/completions and /v1/chat/completions in vLLM's chunk shapes (logprobs, usage chunk,
/// [DONE]) and /tokenize, /detokenize. Output is deterministic: completion token i is <c>" tok{i}"</c>; the prompt's token
/// count is its UTF-8 byte count (or the length of a token-id prompt). Prompts containing <c>[error400]</c>,
/// <c>[hang]</c> or <c>[midstream-error]</c> trigger a 400, a stream that stalls after one token until the client
/// aborts, and an error chunk after one token. /metrics counts prompt and generated tokens under vLLM's counter names.
/// </summary>
public sealed class FakeUpstreamServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly FakeUpstreamOptions _options;
    private readonly TaskCompletionSource _firstAbort = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _active;
    private long _generatedTokens;
    private long _promptTokens;
    private int _aborted;
    private volatile bool _healthy = true;
    private volatile string? _lastRequest;

    private FakeUpstreamServer(WebApplication app, FakeUpstreamOptions options, Uri baseUrl)
    {
        _app = app;
        _options = options;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>While false, /health answers 503.</summary>
    public bool Healthy
    {
        get => _healthy;
        set => _healthy = value;
    }

    public int ActiveRequests => Volatile.Read(ref _active);

    /// <summary>Generations whose client went away before the end (the server saw RequestAborted).</summary>
    public int AbortedRequests => Volatile.Read(ref _aborted);

    /// <summary>Completes when the first generation is aborted by its client.</summary>
    public Task FirstAbort => _firstAbort.Task;

    /// <summary>The JSON body of the last generation request, for checking what a client forwarded.</summary>
    public string? LastRequestBody => _lastRequest;

    public static async Task<FakeUpstreamServer> StartAsync(FakeUpstreamOptions options, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Parse(options.Host), port));
        var app = builder.Build();
        FakeUpstreamServer? server = null;
        app.MapGet("/health", (HttpContext c) => server!.HealthAsync(c));
        app.MapGet("/v1/models", (HttpContext c) => server!.ModelsAsync(c));
        app.MapGet("/metrics", (HttpContext c) => server!.MetricsAsync(c));
        app.MapPost("/v1/completions", (HttpContext c) => server!.GenerateAsync(c, chat: false));
        app.MapPost("/v1/chat/completions", (HttpContext c) => server!.GenerateAsync(c, chat: true));
        if (options.Tokenize)
        {
            app.MapPost("/tokenize", (HttpContext c) => TokenizeAsync(c));
            app.MapPost("/detokenize", (HttpContext c) => DetokenizeAsync(c));
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new FakeUpstreamServer(app, options, new Uri(address));
        return server;
    }

    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private Task HealthAsync(HttpContext context)
    {
        context.Response.StatusCode = _healthy ? 200 : 503;
        return context.Response.WriteAsJsonAsync(new
        {
            status = _healthy ? "ok" : "error",
            active_requests = ActiveRequests,
            queue_depth = 0,
            pid = Environment.ProcessId,
            ttft_p50_ms = _options.TtftP50Ms,
        });
    }

    /// <summary>Tokens generated so far (what /metrics says as vllm:generation_tokens_total).</summary>
    public long GeneratedTokens => Interlocked.Read(ref _generatedTokens);

    // vLLM's own counter names and labels, so what reads vLLM's /metrics reads this.
    private Task MetricsAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain; version=0.0.4";
        var model = _options.ModelId.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
        return context.Response.WriteAsync($$"""
            # HELP vllm:prompt_tokens_total Number of prefill tokens processed.
            # TYPE vllm:prompt_tokens_total counter
            vllm:prompt_tokens_total{model_name="{{model}}"} {{Interlocked.Read(ref _promptTokens)}}.0
            # HELP vllm:generation_tokens_total Number of generation tokens processed.
            # TYPE vllm:generation_tokens_total counter
            vllm:generation_tokens_total{model_name="{{model}}"} {{Interlocked.Read(ref _generatedTokens)}}.0

            """);
    }

    private Task ModelsAsync(HttpContext context) =>
        context.Response.WriteAsJsonAsync(new { @object = "list", data = new[] { new { id = _options.ModelId, @object = "model", created = 0, owned_by = "fake", max_model_len = 4096 } } });

    private async Task GenerateAsync(HttpContext context, bool chat)
    {
        using var json = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var root = json.RootElement;
        _lastRequest = root.GetRawText();
        var (prompt, promptTokens) = ReadPrompt(root, chat);
        if (prompt.Contains("[error400]", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new { error = new { message = "the fake upstream rejects prompts with [error400]", type = "invalid_request_error", param = "prompt", code = "fake_rejected" } });
            return;
        }

        if (!(root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True))
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new { error = new { message = "the fake upstream only streams", type = "invalid_request_error", param = "stream", code = (string?)null } });
            return;
        }

        var maxTokens = root.TryGetProperty("max_tokens", out var max) && max.ValueKind == JsonValueKind.Number ? max.GetInt32() : 16;
        var stops = ReadStops(root);
        var includeUsage = _options.Usage && root.TryGetProperty("stream_options", out var so) && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
        int? topLogprobs = chat
            ? root.TryGetProperty("logprobs", out var lp) && lp.ValueKind == JsonValueKind.True ? (root.TryGetProperty("top_logprobs", out var tl) ? tl.GetInt32() : 0) : null
            : root.TryGetProperty("logprobs", out var clp) && clp.ValueKind == JsonValueKind.Number ? clp.GetInt32() : null;

        Interlocked.Increment(ref _active);
        Interlocked.Add(ref _promptTokens, promptTokens);
        try
        {
            context.Response.ContentType = "text/event-stream";
            if (chat)
            {
                await WriteChunkAsync(context, Chunk(chat, "", null, null, role: true));
            }

            if (chat && ForcedTool(root) is { } tool)
            {
                await WriteToolCallAsync(context, tool, promptTokens, includeUsage);
                return;
            }

            var text = new StringBuilder();
            var completionTokens = 0;
            var finish = "length";
            for (var i = 0; i < maxTokens; i++)
            {
                if (i == 1 && prompt.Contains("[hang]", StringComparison.Ordinal))
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }

                if (i == 1 && prompt.Contains("[midstream-error]", StringComparison.Ordinal))
                {
                    await WriteChunkAsync(context, new { error = new { message = "the fake upstream failed mid-stream", type = "server_error", code = 500 } });
                    return;
                }

                var token = $" tok{i}";
                var candidate = text + token;
                if (stops.Any(s => candidate.Contains(s, StringComparison.Ordinal)))
                {
                    finish = "stop";
                    break;
                }

                text.Append(token);
                completionTokens++;
                Interlocked.Increment(ref _generatedTokens);
                var logprob = -0.25f * (i + 1);
                await WriteChunkAsync(context, Chunk(chat, token, topLogprobs is null ? null : Logprobs(chat, token, logprob, topLogprobs.Value), null));
            }

            await WriteChunkAsync(context, Chunk(chat, "", null, finish));
            if (includeUsage)
            {
                await WriteChunkAsync(context, new
                {
                    id = "fake",
                    @object = chat ? "chat.completion.chunk" : "text_completion",
                    model = _options.ModelId,
                    choices = Array.Empty<object>(),
                    usage = new { prompt_tokens = promptTokens, completion_tokens = completionTokens, total_tokens = promptTokens + completionTokens },
                });
            }

            await context.Response.WriteAsync("data: [DONE]\n\n");
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            Interlocked.Increment(ref _aborted);
            _firstAbort.TrySetResult();
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }

    /// <summary>
    /// Like vLLM with tool_choice required or a named function: the tool it must call (the named one, else the first
    /// declared), or null when the request forces no call.
    /// </summary>
    private static string? ForcedTool(JsonElement root)
    {
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() == 0
            || !root.TryGetProperty("tool_choice", out var choice))
        {
            return null;
        }

        return choice.ValueKind == JsonValueKind.Object ? choice.GetProperty("function").GetProperty("name").GetString()
            : choice.ValueKind == JsonValueKind.String && choice.GetString() == "required" ? tools[0].GetProperty("function").GetProperty("name").GetString()
            : null;
    }

    /// <summary>One call to <paramref name="tool"/> with arguments {"fake": true}, streamed as vLLM does: id and name, then argument pieces.</summary>
    private async Task WriteToolCallAsync(HttpContext context, string tool, int promptTokens, bool includeUsage)
    {
        object Delta(object call, string? finish = null) => new
        {
            id = "fake",
            @object = "chat.completion.chunk",
            model = _options.ModelId,
            choices = new[] { new { index = 0, delta = new { tool_calls = new[] { call } }, logprobs = (object?)null, finish_reason = finish } },
        };

        await WriteChunkAsync(context, Delta(new { index = 0, id = "call_fake0", type = "function", function = new { name = tool, arguments = "" } }));
        await WriteChunkAsync(context, Delta(new { index = 0, function = new { arguments = "{\"fake\": " } }));
        await WriteChunkAsync(context, Delta(new { index = 0, function = new { arguments = "true}" } }));
        await WriteChunkAsync(context, Chunk(chat: true, "", null, "tool_calls"));
        Interlocked.Add(ref _generatedTokens, 3);
        if (includeUsage)
        {
            await WriteChunkAsync(context, new
            {
                id = "fake",
                @object = "chat.completion.chunk",
                model = _options.ModelId,
                choices = Array.Empty<object>(),
                usage = new { prompt_tokens = promptTokens, completion_tokens = 3, total_tokens = promptTokens + 3 },
            });
        }

        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    private object Chunk(bool chat, string text, object? logprobs, string? finish, bool role = false) => chat
        ? new
        {
            id = "fake",
            @object = "chat.completion.chunk",
            model = _options.ModelId,
            choices = new[] { new { index = 0, delta = role ? (object)new { role = "assistant", content = "" } : new { content = text }, logprobs, finish_reason = finish } },
        }
        : new
        {
            id = "fake",
            @object = "text_completion",
            model = _options.ModelId,
            choices = new[] { new { index = 0, text, logprobs, finish_reason = finish } },
        };

    private static object Logprobs(bool chat, string token, float logprob, int top)
    {
        var alternatives = new[] { (token, logprob), (" alt", logprob - 1) }.Take(top).ToArray();
        return chat
            ? new { content = new[] { new { token, logprob, bytes = Encoding.UTF8.GetBytes(token), top_logprobs = alternatives.Select(a => new { token = a.Item1, logprob = a.Item2 }).ToArray() } } }
            : new
            {
                tokens = new[] { token },
                token_logprobs = new[] { logprob },
                top_logprobs = new[] { alternatives.ToDictionary(a => a.Item1, a => a.Item2) },
                text_offset = new[] { 0 },
            };
    }

    private static async Task WriteChunkAsync(HttpContext context, object chunk)
    {
        await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(chunk) + "\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static (string Text, int Tokens) ReadPrompt(JsonElement root, bool chat)
    {
        if (chat)
        {
            var text = string.Join("\n", root.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()));
            return (text, Encoding.UTF8.GetByteCount(text));
        }

        var prompt = root.GetProperty("prompt");
        return prompt.ValueKind == JsonValueKind.Array
            ? ("", prompt.GetArrayLength())
            : (prompt.GetString()!, Encoding.UTF8.GetByteCount(prompt.GetString()!));
    }

    private static string[] ReadStops(JsonElement root) =>
        !root.TryGetProperty("stop", out var stop) ? []
        : stop.ValueKind == JsonValueKind.String ? [stop.GetString()!]
        : stop.ValueKind == JsonValueKind.Array ? stop.EnumerateArray().Select(s => s.GetString()!).ToArray()
        : [];

    // Tokens are UTF-8 bytes; 256 is the "BOS" that add_special_tokens (vLLM's default: true) prepends.
    private static async Task TokenizeAsync(HttpContext context)
    {
        using var json = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var text = json.RootElement.GetProperty("prompt").GetString()!;
        var addSpecial = !json.RootElement.TryGetProperty("add_special_tokens", out var a) || a.ValueKind == JsonValueKind.True;
        var tokens = (addSpecial ? [256] : Array.Empty<int>()).Concat(Encoding.UTF8.GetBytes(text).Select(b => (int)b)).ToArray();
        await context.Response.WriteAsJsonAsync(new { count = tokens.Length, max_model_len = 4096, tokens });
    }

    private static async Task DetokenizeAsync(HttpContext context)
    {
        using var json = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var bytes = json.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).Where(t => t < 256).Select(t => (byte)t).ToArray();
        await context.Response.WriteAsJsonAsync(new { prompt = Encoding.UTF8.GetString(bytes) });
    }
}
