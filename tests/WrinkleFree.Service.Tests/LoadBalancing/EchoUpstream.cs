using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Tests.LoadBalancing;

/// <summary>
/// A small real Kestrel replica for balancer tests: /v1/echo answers "name:body" (optionally after x-delay-ms),
/// /v1/hold and /v1/stream park until <see cref="Release"/>, /v1/fail500 answers 500, /v1/abortmid cuts its response
/// after the first bytes, /v1/loading503 answers a replica's 503 "model_loading". While <see cref="Draining"/> every
/// request gets the replica's 503 "draining" refusal. <see cref="KillAsync"/> stops Kestrel and aborts open connections, as a SIGKILL would.
/// </summary>
internal sealed class EchoUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _served;
    private int _held;
    private int _stopped;
    private volatile bool _draining;

    private EchoUpstream(string name, WebApplication app)
    {
        Name = name;
        _app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = new Uri(address);
    }

    public string Name { get; }

    public Uri Url { get; }

    /// <summary>Requests that reached this replica's handlers.</summary>
    public int Served => Volatile.Read(ref _served);

    /// <summary>Requests now parked in /v1/hold or /v1/stream.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>While true every request is refused as a draining `wf replica` refuses it (503, code "draining").</summary>
    public bool Draining
    {
        get => _draining;
        set => _draining = value;
    }

    public ReplicaEndpoint Endpoint(bool ready = true) => new(Name, Url, ready);

    public void Release() => _release.TrySetResult();

    public static async Task<EchoUpstream> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        EchoUpstream? self = null;
        app.Run(context => self!.HandleAsync(context));
        await app.StartAsync();
        self = new EchoUpstream(name, app);
        return self;
    }

    public async Task KillAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            // A cancelled token makes Kestrel abort connections instead of letting requests finish.
            await _app.StopAsync(new CancellationToken(canceled: true));
        }
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await KillAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _served);
        var aborted = context.RequestAborted;
        if (_draining)
        {
            await WriteReplicaErrorAsync(context, "the replica is shutting down; send the request to another replica", "draining");
            return;
        }

        switch (context.Request.Path.Value)
        {
            case "/v1/loading503":
                await WriteReplicaErrorAsync(context, "the model is still loading; retry shortly", "model_loading");
                break;
            case "/v1/echo":
                using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
                {
                    var body = await reader.ReadToEndAsync(aborted);
                    if (context.Request.Headers.TryGetValue("x-delay-ms", out var delay))
                    {
                        await Task.Delay(int.Parse(delay.ToString(), CultureInfo.InvariantCulture), aborted);
                    }

                    await WriteAllAsync(context, $"{Name}:{body}");
                }

                break;
            case "/v1/hold":
                await ParkAsync(aborted);
                await WriteAllAsync(context, Name);
                break;
            case "/v1/stream":
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync($"data: first from {Name}\n\n", aborted);
                await context.Response.Body.FlushAsync(aborted);
                await ParkAsync(aborted);
                await context.Response.WriteAsync("data: second\n\n", aborted);
                break;
            case "/v1/fail500":
                context.Response.StatusCode = 500;
                await WriteAllAsync(context, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"param\":null,\"code\":null}}");
                break;
            case "/v1/abortmid":
                context.Response.ContentLength = 1000;
                await context.Response.WriteAsync("partial", aborted);
                await context.Response.Body.FlushAsync(aborted);
                context.Abort();
                break;
            default:
                context.Response.StatusCode = 404;
                break;
        }
    }

    private async Task ParkAsync(CancellationToken aborted)
    {
        Interlocked.Increment(ref _held);
        try
        {
            await _release.Task.WaitAsync(aborted);
        }
        finally
        {
            Interlocked.Decrement(ref _held);
        }
    }

    // The shape ApiErrors writes in `wf replica`: JSON without a Content-Length (chunked) and a Retry-After.
    private static async Task WriteReplicaErrorAsync(HttpContext context, string message, string code)
    {
        context.Response.StatusCode = 503;
        context.Response.ContentType = "application/json";
        context.Response.Headers.RetryAfter = "1";
        await context.Response.WriteAsync($$$"""{"error":{"message":"{{{message}}}","type":"service_unavailable","param":null,"code":"{{{code}}}"}}""", context.RequestAborted);
    }

    // One write with a Content-Length: headers and body leave together, so a kill either loses all of it or none.
    private static Task WriteAllAsync(HttpContext context, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.ContentLength = bytes.Length;
        context.Response.ContentType = "text/plain";
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }
}
