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
/// stream whose last chunk carries the usage; /v1/hold parks until released. It records each request's Authorization.
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
        if (query.ContainsKey("stream"))
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await context.Response.WriteAsync("data: {\"id\":\"x\",\"choices\":[]," + usage + "}\n\ndata: [DONE]\n\n", context.RequestAborted);
            return;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"}}]," + usage + "}", context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
