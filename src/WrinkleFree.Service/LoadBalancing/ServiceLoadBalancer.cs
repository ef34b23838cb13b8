using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Service.Tls;
using WrinkleFree.Service.Security;
using Yarp.ReverseProxy.Forwarder;

namespace WrinkleFree.Service.LoadBalancing;

/// <summary>
/// The service's single endpoint: a Kestrel server that forwards <c>/v1/*</c> to the replicas the controller pushes
/// with <see cref="UpdateReplicas"/>, and answers <c>/health</c> and <c>/metrics</c> (<see cref="ServiceMetrics"/>) for the
/// service itself.
/// </summary>
public sealed class ServiceLoadBalancer : IServiceEndpoint
{
    private readonly WebApplication _app;
    private readonly ReplicaSet _replicas;
    private readonly ReplicaProxy _proxy;
    private readonly HttpMessageInvoker _client;
    private readonly CancellationTokenSource _stopping;
    private readonly ILogger _logger;
    private readonly Random _random;
    private int _disposed;

    private ServiceLoadBalancer(WebApplication app, ReplicaSet replicas, ReplicaProxy proxy, HttpMessageInvoker client, CancellationTokenSource stopping, ILogger logger, Random random, ServiceMetrics metrics, ApiKeyGate keys)
    {
        Metrics = metrics;
        Keys = keys;
        _random = random;
        _app = app;
        _replicas = replicas;
        _proxy = proxy;
        _client = client;
        _stopping = stopping;
        _logger = logger;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = new Uri(address);
    }

    /// <summary>The service endpoint clients call (the actual port when the options asked for port 0).</summary>
    public Uri BaseUrl { get; }

    /// <summary>Called once per client request to /v1/* (retries not counted) with its arrival time, for the autoscaler's QPS.</summary>
    public Action<DateTimeOffset>? OnRequest { get; set; }

    /// <summary>
    /// Set by the controller while it brings up replicas: requests that find no ready replica then wait (up to
    /// <see cref="ServiceLoadBalancerOptions.ScaleFromZeroWait"/>) for one instead of getting 503 at once.
    /// </summary>
    public bool ScalingUp
    {
        get => _replicas.ScalingUp;
        set => _replicas.ScalingUp = value;
    }

    /// <inheritdoc />
    public bool ColdStart { get; set; }

    /// <summary>What /metrics exports.</summary>
    public ServiceMetrics Metrics { get; }

    /// <summary>The API key check in front of every route but /health.</summary>
    public ApiKeyGate Keys { get; }

    /// <summary>Requests now waiting for a first ready replica.</summary>
    internal int WaitingRequests => _proxy.WaitingRequests;

    /// <summary>Starts listening, open to every request (no API key); the balancer has no replicas until the first <see cref="UpdateReplicas"/>.</summary>
    public static Task<ServiceLoadBalancer> StartAsync(
        ServiceLoadBalancerOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        Random? random = null,
        CancellationToken cancellationToken = default) =>
        StartAsync(options, EndpointAuth.Open, timeProvider, loggerFactory, random, cancellationToken);

    /// <summary>Starts listening with the API keys of <paramref name="auth"/> in force from the first request.</summary>
    public static async Task<ServiceLoadBalancer> StartAsync(
        ServiceLoadBalancerOptions options,
        EndpointAuth auth,
        TimeProvider? timeProvider,
        ILoggerFactory? loggerFactory,
        Random? random,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var time = timeProvider ?? TimeProvider.System;
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<ServiceLoadBalancer>();

        var certificate = ServerTls.Load(options.TlsCertFile, options.TlsKeyFile, "service endpoint", time, logger);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        builder.Services.AddHttpForwarder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.UseKestrel(kestrel =>
        {
            var address = options.ListenAddress == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.ListenAddress);
            kestrel.Listen(address, options.Port, listen => ServerTls.Use(listen, certificate));
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
        });
        var app = builder.Build();

        random ??= new Random();
        var policy = LoadBalancingPolicyFactory.Create(options.Policy, random);
        var replicas = new ReplicaSet(policy, time, options.FailureCooldown);
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = options.ConnectTimeout,
            // The forwarder copies the client's trace headers itself; a propagator would add a second set.
            ActivityHeadersPropagator = null,
        };
        ReplicaClientTls.Configure(handler, options.ReplicaTls, time, logger);
        var client = new HttpMessageInvoker(handler);
        var stopping = new CancellationTokenSource();
        var proxy = new ReplicaProxy(options, replicas, app.Services.GetRequiredService<IHttpForwarder>(), client, time, logger, stopping.Token);
        var metrics = new ServiceMetrics(options.ServiceName, time, options.ControllerTimeout);
        proxy.OnRetry = metrics.RecordRetry;
        var health = new HealthEndpoint(replicas);
        var keys = new ApiKeyGate(options.ServiceName, auth, time);
        app.Use(new EndpointAuthMiddleware(keys, options.ServiceName, logger).InvokeAsync);
        app.Run(async context =>
        {
            var path = context.Request.Path;
            // The replicas' llama.cpp-style /tokenize and /detokenize go through too: clients count tokens against the model being served.
            if (path.StartsWithSegments("/v1") || path == "/tokenize" || path == "/detokenize")
            {
                var started = time.GetTimestamp();
                try
                {
                    await proxy.HandleAsync(context);
                }
                finally
                {
                    metrics.RecordRequest(context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted ? 499 : context.Response.StatusCode, time.GetElapsedTime(started));
                }

                return;
            }

            if (path == "/metrics")
            {
                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
                return;
            }

            await (path == "/health"
                ? health.WriteAsync(context)
                : OpenAiError.WriteAsync(context, StatusCodes.Status404NotFound, $"No route for {path}; the service serves /v1/*, /tokenize, /detokenize, /health and /metrics.", "invalid_request_error", "not_found"));
        });

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            client.Dispose();
            stopping.Dispose();
            await app.DisposeAsync();
            throw;
        }

        var balancer = new ServiceLoadBalancer(app, replicas, proxy, client, stopping, logger, random, metrics, keys);
        proxy.OnRequest = at =>
        {
            // Cold start: the first request must hold the balancer in scaling-up mode at once (skypilot#3359); the
            // controller's own callback below then counts it.
            if (balancer.ColdStart)
                replicas.ScalingUp = true;
            balancer.OnRequest?.Invoke(at);
        };
        Log.Started(logger, balancer.BaseUrl, policy.Name);
        balancer.LogAuth();
        return balancer;
    }

    /// <inheritdoc />
    public Task SetAuthAsync(EndpointAuth auth, CancellationToken cancellationToken)
    {
        var wasOpen = Keys.IsOpen;
        Keys.Update(auth);
        if (wasOpen != Keys.IsOpen)
        {
            LogAuth();
        }

        return Task.CompletedTask;
    }

    private void LogAuth()
    {
        if (Keys.IsOpen)
        {
            Security.Log.AuthOpen(_logger, _proxy.Options.ServiceName, BaseUrl);
        }
        else
        {
            Security.Log.AuthKeys(_logger, _proxy.Options.ServiceName, Keys.Auth.Keys.Count);
        }
    }

    /// <summary>The name of the load-balancing policy in force (<see cref="LoadBalancingPolicyNames"/>).</summary>
    public string Policy => _replicas.Policy.Name;

    /// <summary>
    /// Switches the load-balancing policy for requests from now on; in-flight requests and their counts are untouched.
    /// Setting the policy already in force keeps its state (a round-robin position, for one).
    /// </summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="LoadBalancingPolicyNames"/>.</exception>
    public void SetPolicy(string name)
    {
        var next = LoadBalancingPolicyFactory.Create(name, _random);
        if (next.Name == _replicas.Policy.Name)
        {
            return;
        }

        _replicas.Policy = next;
        Log.PolicyChanged(_logger, next.Name);
    }

    /// <summary>
    /// Applies changed settings to the running balancer for requests arriving from now on: the policy (see
    /// <see cref="SetPolicy"/>), stream timeout, scale-from-zero wait, attempts and Retry-After. The listen address and
    /// port, body limit, connect timeout and failure cooldown are fixed when the balancer starts; changing them throws.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid or is one that cannot change while running.</exception>
    public void Reconfigure(ServiceLoadBalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var running = _proxy.Options;
        running.CheckFixed(options, BaseUrl.Port);

        SetPolicy(options.Policy);
        // The stored options keep the port actually bound, so a later comparison sees no change.
        _proxy.Reconfigure(options with { Port = running.Port });
    }

    /// <summary>
    /// Replaces the replica list at once. Replicas that are gone or not ready get no new requests but keep their
    /// in-flight ones (and their counts) until those finish; a replica re-listed as ready is cleared of passive-health suspension.
    /// </summary>
    public void UpdateReplicas(IReadOnlyList<ReplicaEndpoint> replicas)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        var routable = _replicas.Update(replicas);
        Log.ReplicasUpdated(_logger, replicas.Count, routable);
    }

    /// <summary>Requests in flight per replica id: listed replicas, and unlisted ones until their last request ends.</summary>
    public IReadOnlyDictionary<string, int> GetInFlight() => _replicas.GetInFlight();

    /// <summary>Whether passive health has taken the replica out after a transport failure (for tests and status).</summary>
    internal bool IsSuspended(string replicaId) => _replicas.IsSuspended(replicaId);

    /// <inheritdoc />
    public void Publish(ServiceState state) => Metrics.Publish(state);

    /// <inheritdoc />
    public Task CloseAsync() => DisposeAsync().AsTask();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // Waiting requests answer 503 instead of holding the shutdown for their whole wait bound.
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _client.Dispose();
        _stopping.Dispose();
    }

    /// <summary>The service's own /health: 200 while a replica is ready, else 503; the body says how many and whether it is scaling up.</summary>
    private sealed class HealthEndpoint(ReplicaSet replicas)
    {
        public Task WriteAsync(HttpContext context)
        {
            var ready = replicas.Routable.Length;
            context.Response.StatusCode = ready > 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "application/json";
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteString("status", ready > 0 ? "ready" : "no_ready_replicas");
                json.WriteNumber("ready_replicas", ready);
                json.WriteBoolean("scaling_up", replicas.ScalingUp);
                json.WriteString("load_balancing_policy", replicas.Policy.Name);
                json.WriteEndObject();
            }

            return context.Response.Body.WriteAsync(stream.ToArray(), context.RequestAborted).AsTask();
        }
    }
}
