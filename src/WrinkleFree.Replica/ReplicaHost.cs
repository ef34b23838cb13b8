using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Http;
using WrinkleFree.Replica.Api;
using WrinkleFree.Replica.Backends;
using WrinkleFree.Replica.Health;
using WrinkleFree.Replica.Metrics;
using WrinkleFree.Replica.Tls;

namespace WrinkleFree.Replica;

/// <summary>
/// One replica: a Kestrel server exposing the OpenAI API, /health and /metrics over a backend that loads in the background.
/// <see cref="StopAsync"/> drains: it stops accepting, lets in-flight requests finish up to the drain timeout, then
/// releases the backend.
/// </summary>
public sealed class ReplicaHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ReplicaContext _replica;
    private readonly Task _startup;
    private readonly ITimer _sampler;
    private readonly InterruptionNoticeService? _notices;
    private int _stopped;
    private int _readyLogged;

    private ReplicaHost(WebApplication app, ReplicaContext replica, Task startup, Uri address, InterruptionNoticeService? notices)
    {
        _app = app;
        _notices = notices;
        _replica = replica;
        _startup = startup;
        Address = address;
        // Sampling once a second keeps the rate windows full even when nobody polls /health or /metrics.
        _sampler = replica.Time.CreateTimer(_ => replica.Refresh(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>The bound base URL (with the real port when the options asked for port 0).</summary>
    public Uri Address { get; }

    public ReplicaOptions Options => _replica.Options;

    public IInferenceBackend Backend => _replica.Backend;

    /// <summary>How the request-path warm-up ended: null without one, "ok", or why it failed (the replica serves either way).</summary>
    internal string? WarmUpOutcome => _replica.WarmUpOutcome;

    /// <summary>Validates <paramref name="options"/>, binds Kestrel, starts loading the backend and returns once listening.</summary>
    public static Task<ReplicaHost> StartAsync(ReplicaOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        StartAsync(options, logging, time, beforeBackendStart: null, cancellationToken);

    /// <param name="beforeBackendStart">Awaited before the backend starts (tests hold the replica in "loading" with it).</param>
    internal static async Task<ReplicaHost> StartAsync(ReplicaOptions options, Action<ILoggingBuilder>? logging, TimeProvider? time, Func<Task>? beforeBackendStart, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var keys = options.ApiKeyFile is { } keyFile ? ReplicaApiKeys.Load(keyFile) : null;
        time ??= TimeProvider.System;
        var tls = ReplicaTls.Create(options, time);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(ReplicaHost).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            Listen(k, options.Host, options.Port, tls);
        });
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.DrainTimeout);
        // The CLI owns SIGTERM/Ctrl-C (so it can drain and exit 0); a host in a test process must not react to signals.
        builder.Services.AddSingleton<IHostLifetime, PassiveLifetime>();
        var app = builder.Build();

        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        var logger = loggers.CreateLogger("WrinkleFree.Replica");
        tls?.Logger = logger;
        var backend = BackendFactory.Create(options, loggers, time);
        var replica = new ReplicaContext(options, backend, time, logger) { WarmingUp = options.WarmUp && options.Backend == "bitnet" };
        Map(app, replica, loggers.CreateLogger(AccessLog.Category), keys);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        Log.Listening(logger, address.ToString(), backend.Name, backend.ModelId);
        // Watched from the start: a notice can come while the model still loads, and then the replica never takes traffic.
        var notices = InterruptionNoticeService.Create(replica);
        if (notices is not null)
        {
            await notices.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        var startup = Task.Run(async () =>
        {
            if (beforeBackendStart is not null)
            {
                await beforeBackendStart().ConfigureAwait(false);
            }

            await StartBackendAsync(replica).ConfigureAwait(false);
            if (replica.WarmingUp)
            {
                // The backend loads in the background; the request path's warm-up runs once it is ready.
                while (replica.Backend.State == BackendState.Loading)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(20)).ConfigureAwait(false);
                }

                try
                {
                    if (replica.Backend.State == BackendState.Ready)
                    {
                        await ReplicaWarmUp.RunAsync(replica, address).ConfigureAwait(false);
                    }
                }
                finally
                {
                    replica.WarmingUp = false;
                }
            }
        }, CancellationToken.None);
        return new ReplicaHost(app, replica, startup, address, notices);
    }

    private static async Task StartBackendAsync(ReplicaContext replica)
    {
        try
        {
            var options = replica.Options;
            if (options.Backend == "bitnet")
            {
                // Calibrate before the engine starts so the measurement has the memory system to itself.
                var peak = options.PeakBandwidthGBps ?? PeakBandwidth.MeasureGBps(options.Threads);
                replica.Stats.PeakBytesPerSecond = peak * 1e9;
                Log.PeakBandwidth(replica.Logger, peak, options.PeakBandwidthGBps is null ? "measured" : "configured");
            }

            await replica.Backend.StartAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.StartFailed(replica.Logger, e);
            throw;
        }
    }

    /// <summary>
    /// Completes when the backend is ready; throws <see cref="InvalidOperationException"/> when it cannot become ready
    /// (the model failed to load).
    /// </summary>
    public async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        await _startup.WaitAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            switch (_replica.Backend.State)
            {
                case BackendState.Ready when !_replica.WarmingUp:
                    if (Interlocked.Exchange(ref _readyLogged, 1) == 0)
                    {
                        Log.Ready(_replica.Logger, Address.ToString(), _replica.Backend.ModelId);
                    }

                    return;
                case BackendState.Unavailable when _replica.Backend is Backends.BitNet.BitNetBackend b:
                    throw new InvalidOperationException($"the model failed to load: {b.LoadError}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), _replica.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops accepting, waits for in-flight requests up to the drain timeout, then releases the backend.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _replica.Draining = true;
        if (_notices is not null)
        {
            await _notices.StopAsync(cancellationToken).ConfigureAwait(false);
            _notices.Dispose();
        }

        var load = _replica.Backend.GetLoad();
        Log.Draining(_replica.Logger, _replica.Options.DrainTimeout.TotalSeconds, load.ActiveRequests, load.QueueDepth);
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        await _sampler.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _startup.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Already logged when it happened; stopping goes on.
        }

        await _replica.Backend.DisposeAsync().ConfigureAwait(false);
        Log.Stopped(_replica.Logger);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static void Map(WebApplication app, ReplicaContext replica, ILogger accessLogger, ReplicaApiKeys? keys)
    {
        app.Use(async (http, next) =>
        {
            var started = replica.Time.GetTimestamp();
            var label = ReplicaContext.EndpointLabel(http.Request.Path.Value ?? "");
            // The load balancer passes the client's id (or one it made up); a request sent here directly gets one too.
            var requestId = RequestId.FromHeader(http.Request.Headers[RequestId.Header] is { Count: > 0 } sent ? sent[0] : null);
            http.Response.Headers[RequestId.Header] = requestId;
            http.Features.Set(new RequestUsage());
            // The replica's own warm-up requests (ReplicaWarmUp) pass the loading gate and the key check and stay out of
            // the metrics and the access log.
            var warmUp = replica.IsWarmUpRequest(http);
            if (warmUp)
            {
                ReplicaContext.EnterWarmUp();
            }

            var clientClosed = false;
            try
            {
                await next(http).ConfigureAwait(false);
            }

            catch (BackendException e) when (!http.Response.HasStarted)
            {
                await ApiErrors.WriteAsync(http, e).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
                // The client went away; its generations were cancelled with the request. 499 as nginx counts it.
                clientClosed = true;
            }
            catch (BadHttpRequestException e) when (!http.Response.HasStarted)
            {
                // Kestrel's own verdicts on the request (bad framing, body too large, too slow).
                await ApiErrors.WriteAsync(http, new BackendException(e.StatusCode, "invalid_request_error", e.Message)).ConfigureAwait(false);
            }
            catch (Exception e) when (!http.Response.HasStarted)
            {
                Log.Unhandled(replica.Logger, http.Request.Method, http.Request.Path.Value ?? "", e);
                await ApiErrors.WriteAsync(http, new BackendException(500, "server_error", "the replica failed to handle the request: " + e.Message)).ConfigureAwait(false);
            }
            finally
            {
                if (!warmUp)
                {
                    var status = clientClosed ? 499 : http.Response.StatusCode;
                    replica.Metrics.Requests.WithLabels(label, status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
                    AccessLog.Write(accessLogger, http, status, replica.Time.GetElapsedTime(started), requestId);
                }
            }
        });

        if (keys is not null)
        {
            app.Use(keys.InvokeAsync);
        }

        app.MapPost(Routes.Completions, (RequestDelegate)(http => GenerationEndpoints.CompletionsAsync(http, replica)));
        app.MapPost(Routes.ChatCompletions, (RequestDelegate)(http => GenerationEndpoints.ChatAsync(http, replica)));
        app.MapGet(Routes.Models, (RequestDelegate)(http => UtilityEndpoints.ModelsAsync(http, replica)));
        app.MapPost(Routes.Tokenize, (RequestDelegate)(http => UtilityEndpoints.TokenizeAsync(http, replica)));
        app.MapPost(Routes.Detokenize, (RequestDelegate)(http => UtilityEndpoints.DetokenizeAsync(http, replica)));
        app.MapGet(Routes.Health, (RequestDelegate)(http => HealthEndpoint.HandleAsync(http, replica)));
        app.MapGet(Routes.Metrics, (RequestDelegate)(http => MetricsEndpoint.HandleAsync(http, replica)));
        app.MapFallback((RequestDelegate)(http => throw (ReplicaContext.EndpointLabel(http.Request.Path.Value ?? "") == "other"
            ? ApiErrors.NotFound($"there is no route {http.Request.Method} {http.Request.Path}; see GET {Routes.Models}, POST {Routes.Completions}, POST {Routes.ChatCompletions}")
            : new BackendException(405, "invalid_request_error", $"{http.Request.Path} does not accept {http.Request.Method}", null, "method_not_allowed"))));
    }

    private static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, string host, int port, ReplicaTls? tls)
    {
        var address = IPAddress.TryParse(host, out var ip) ? ip
            : string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : Dns.GetHostAddresses(host)[0];
        kestrel.Listen(address, port, listen => tls?.Use(listen));
    }

    /// <summary>A lifetime that ignores process signals: whoever owns the host decides when it stops.</summary>
    private sealed class PassiveLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
