using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Tests.Security;

/// <summary>
/// A replica stand-in on 127.0.0.1:0 that reports token usage as an OpenAI replica does: POST /v1/chat/completions
/// answers a JSON completion whose usage is the query's prompt and completion counts, or, with "stream" in the query, a
/// stream whose last chunk carries the usage; a body with <c>"stream": true</c> streams too, with the usage chunk only
/// when its <c>stream_options.include_usage</c> is true, as OpenAI does. /v1/hold parks until released. It records
/// each request's Authorization and body.
/// </summary>
internal sealed class UsageUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _held;

    private UsageUpstream(WebApplication app) => (_app, Url) = (app, new Uri(app.Urls.First()));

    public Uri Url { get; }

    public ConcurrentQueue<string> Authorizations { get; } = new();

    public int Held => Volatile.Read(ref _held);

    public ConcurrentQueue<string> Bodies { get; } = new();

    public ReplicaEndpoint Endpoint(string id = "u0") => new(id, Url, true);

    public void Release() => _release.TrySetResult();

    public static async Task<UsageUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        UsageUpstream? self = null;
        app.Run(c => self!.HandleAsync(c));
        await app.StartAsync();
        self = new UsageUpstream(app);
        return self;
    }

    private async Task HandleAsync(HttpContext context)
    {
        Authorizations.Enqueue(context.Request.Headers.Authorization.ToString());
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        Bodies.Enqueue(body);
        var (bodyStream, bodyUsage) = StreamFlags(body);
        var query = context.Request.Query;
        if (context.Request.Path == "/v1/hold")
        {
            Interlocked.Increment(ref _held);
            try
            {
                await _release.Task.WaitAsync(context.RequestAborted);
            }
            finally
            {
                Interlocked.Decrement(ref _held);
            }
        }
        var prompt = int.TryParse(query["prompt"], CultureInfo.InvariantCulture, out var p) ? p : 3;
        var completion = int.TryParse(query["completion"], CultureInfo.InvariantCulture, out var c) ? c : 2;
        var usage = $"\"usage\":{{\"prompt_tokens\":{prompt},\"completion_tokens\":{completion},\"total_tokens\":{prompt + completion}}}";
        if (query.ContainsKey("stream") || bodyStream)
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            var usageChunk = query.ContainsKey("stream") || bodyUsage ? "data: {\"id\":\"x\",\"choices\":[]," + usage + "}\n\n" : "";
            await context.Response.WriteAsync(usageChunk + "data: [DONE]\n\n", context.RequestAborted);
            return;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"}}]," + usage + "}", context.RequestAborted);
    }

    private static (bool Stream, bool IncludeUsage) StreamFlags(string body)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            var root = doc.RootElement;
            var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == System.Text.Json.JsonValueKind.True;
            var usage = root.TryGetProperty("stream_options", out var o) && o.ValueKind == System.Text.Json.JsonValueKind.Object
                && o.TryGetProperty("include_usage", out var u) && u.ValueKind == System.Text.Json.JsonValueKind.True;
            return (stream, usage);
        }
        catch (System.Text.Json.JsonException)
        {
            return (false, false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
