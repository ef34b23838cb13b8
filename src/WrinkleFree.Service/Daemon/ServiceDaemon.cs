using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Platform.Home;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Endpoint;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;
using WrinkleFree.Service.State;

namespace WrinkleFree.Service.Daemon;

/// <summary>
/// The background process behind `wf up`: hosts one <see cref="ServiceController"/> per stored service (re-adopting
/// their replicas on start) and the admin API on 127.0.0.1 that the CLI talks to; its port goes to daemon.json.
/// </summary>
public sealed partial class ServiceDaemon : IAsyncDisposable
{
    private readonly DaemonOptions _options;
    private readonly ServiceStore _store;
    private readonly IReadOnlyDictionary<string, IReplicaProvider> _providers;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory? _loggers;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ServiceController> _controllers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changes = new(1, 1);
    private readonly FileStream _lock;
    private readonly string _adminToken = Security.ApiKeySecret.NewToken();
    private readonly string? _replicaKey;
    private WebApplication? _app;
    private readonly CancellationTokenSource _stopping = new();
    private Task _targets = Task.CompletedTask;
    private int _disposed;

    private ServiceDaemon(DaemonOptions options, ServiceStore store, FileStream lockFile, TimeProvider time, ILoggerFactory? loggers)
    {
        (_options, _store, _lock, _time, _loggers) = (options, store, lockFile, time, loggers);
        _logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger<ServiceDaemon>();
        _providers = ReplicaProviderRegistry.Create(options.Providers, new ReplicaProviderContext(options.Home, time, loggers ?? NullLoggerFactory.Instance));
        _replicaKey = options.ReplicaKeys ? Security.ReplicaKeyFile.Ensure(options.Home) : null;
    }

    /// <summary>Where daemon.json says the admin API is.</summary>
    public DaemonInfo Info { get; private set; } = new(0, 0, default);

    /// <summary>
    /// Takes the home's daemon lock (so two daemons never manage the same replicas), opens the state, starts every stored
    /// service's controller and the admin API, then writes daemon.json. Throws <see cref="IOException"/> when another
    /// daemon holds the lock.
    /// </summary>
    public static async Task<ServiceDaemon> StartAsync(DaemonOptions options, TimeProvider time, ILoggerFactory? loggers, CancellationToken cancellationToken)
    {
        options.Validate();
        WfHome.CreatePrivateDirectory(options.Home);
        // FileShare.None is an exclusive flock on Linux, released by the kernel however the daemon dies.
        var lockFile = new FileStream(Path.Combine(options.Home, "daemon.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        ServiceStore? store = null;
        try
        {
            store = await ServiceStore.OpenAsync(options.StatePath, time, null, cancellationToken).ConfigureAwait(false);
            var daemon = new ServiceDaemon(options, store, lockFile, time, loggers);
            try
            {
                await daemon.StopOrphanEndpointsAsync(cancellationToken).ConfigureAwait(false);
                await daemon.LoadKeysAsync(cancellationToken).ConfigureAwait(false);
                foreach (var service in await store.ListServicesAsync(cancellationToken).ConfigureAwait(false))
                {
                    try
                    {
                        daemon._controllers[service.Name] = await daemon.StartControllerAsync(service.Name, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is InvalidOperationException or ServiceSpecException or IOException)
                    {
                        Log.ServiceNotStarted(daemon._logger, service.Name, e);
                    }
                }
                await daemon.StartAdminAsync(cancellationToken).ConfigureAwait(false);
                daemon._targets = Task.Run(() => daemon.WriteTargetsAsync(daemon._stopping.Token), CancellationToken.None);
                return daemon;
            }
            catch
            {
                await daemon.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch
        {
            store?.Dispose();
            await lockFile.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the admin API and the controllers; replicas keep running for the next daemon to adopt.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _targets.ConfigureAwait(false);
        if (_app is not null)
        {
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var controller in _controllers.Values)
            await controller.DisposeAsync().ConfigureAwait(false);
        foreach (var provider in _providers.Values.OfType<IAsyncDisposable>())
            await provider.DisposeAsync().ConfigureAwait(false);
        _store.Dispose();
        try
        {
            if (DaemonInfo.TryRead(_options.Home)?.Pid == Environment.ProcessId)
                File.Delete(Path.Combine(_options.Home, DaemonInfo.FileName));
        }
        catch (IOException)
        {
            // A stale daemon.json is detected by its dead pid anyway.
        }
        await _lock.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Stops endpoint processes of services the state no longer holds (removed while their endpoint could not be
    /// reached, or state restored from a backup), so no port stays taken by an endpoint nobody drives.
    /// </summary>
    private async Task StopOrphanEndpointsAsync(CancellationToken cancellationToken)
    {
        var folder = EndpointPaths.Folder(_options.Home);
        if (!Directory.Exists(folder))
            return;
        var known = (await _store.ListServicesAsync(cancellationToken).ConfigureAwait(false)).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(folder, "*.json"))
        {
            var name = Path.GetFileName(file);
            var service = name.EndsWith(".options.json", StringComparison.Ordinal) ? name[..^".options.json".Length] : Path.GetFileNameWithoutExtension(name);
            if (known.Contains(service))
                continue;
            if (EndpointHost.ReadIdentity(_options.Home, service) is { } orphan
                && Platform.Processes.LinuxProcess.Identify(orphan.Pid, orphan.StartTime, orphan.BootId) == Platform.Processes.ProcessIdentity.Same)
            {
                Log.OrphanEndpoint(_logger, service, orphan.Pid);
                await Platform.Processes.ProcessGroup.TerminateAsync(orphan.Pid, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(50), _time, null, cancellationToken).ConfigureAwait(false);
            }
            File.Delete(file);
            File.Delete(Path.Combine(folder, service + ".sock"));
        }
    }

    /// <summary>Keeps the Prometheus file_sd targets current with every service's endpoint and ready replicas.</summary>
    private async Task WriteTargetsAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var folder = _options.PrometheusTargetsFolder ?? PrometheusTargets.Folder(_options.Home);
                PrometheusTargets.Write(folder, _controllers.Values.Select(c => c.Snapshot));
                WriteScrapeKey(folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.TargetsNotWritten(_logger, e.Message);
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(2), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private Task<ServiceController> StartControllerAsync(string name, CancellationToken cancellationToken) =>
        ServiceController.StartAsync(name, _store, _providers, new ServiceControllerOptions
        {
            TickInterval = _options.TickInterval,
            DrainTimeout = _options.DrainTimeout,
            ExtraEnvironment = ReplicaEnvironment(),
            EndpointFactory = _options.WfCommand is { } wf ? (service, balancer, allowOtherPort, ct) => StartEndpointAsync(wf, service, balancer, allowOtherPort, ct) : null,
            Auth = CurrentAuth,
            DefaultModelPath = _options.DefaultModelPath,
            PkiFolder = Path.Combine(_options.Home, "pki"),
        }, _time, _loggers, cancellationToken);

    /// <summary>Starts or adopts a service's endpoint process.</summary>
    private async Task<IServiceEndpoint> StartEndpointAsync(
        IReadOnlyList<string> wf, string service, ServiceLoadBalancerOptions balancer, bool allowOtherPort, CancellationToken cancellationToken)
    {
        var logger = (_loggers ?? NullLoggerFactory.Instance).CreateLogger<EndpointProcessClient>();
        return await EndpointProcessClient.StartOrAdoptAsync(new EndpointProcessSettings(_options.Home, wf), service, balancer, CurrentAuth, allowOtherPort, _time, logger, cancellationToken).ConfigureAwait(false);
    }

    private async Task StartAdminAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, DaemonJsonContext.Default));
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, _options.AdminPort);
            k.Limits.MaxRequestBodySize = Security.AdminGuard.MaxBodyBytes;
        });
        var app = builder.Build();
        var guard = new Security.AdminGuard(_adminToken, _time, _logger);
        _guard = guard;
        app.Use(guard.InvokeAsync);
        app.MapPost("/services", CreateAsync);
        MapKeys(app);
        MapCost(app);
        app.MapGet("/services", async (CancellationToken ct) => Results.Json(await ListAsync(ct), DaemonJsonContext.Default.ListServiceView));
        app.MapGet("/services/{name}", GetAsync);
        app.MapPost("/services/{name}/update", UpdateAsync);
        app.MapGet("/services/{name}/logs", LogsAsync);
        app.MapDelete("/services/{name}", DeleteAsync);
        app.MapServiceEvents(_store);
        Status.StatusPage.Map(app, _store, () => _controllers.Values, _time);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        var port = new Uri(app.Urls.First()).Port;
        Info = new DaemonInfo(Environment.ProcessId, port, _time.GetUtcNow()) { Token = _adminToken };
        Info.Write(_options.Home);
        Log.Listening(_logger, port, _controllers.Count);
    }

    private async Task CreateAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var request = await ReadAsync(context, DaemonJsonContext.Default.CreateServiceRequest).ConfigureAwait(false);
        if (request is null)
            return;
        ServiceSpec spec;
        try
        {
            spec = await ServiceCreation.CheckAsync(request, _options, _providers, ct).ConfigureAwait(false);
        }
        catch (ServiceSpecException e)
        {
            await Error(context, 400, e.Message, "spec_error").ConfigureAwait(false);
            return;
        }
        var name = request.Name ?? spec.Name;
        if (name is null || !IsSafeName(name))
        {
            await Error(context, 400, name is null ? "the service needs a name: give --name NAME or `name:` in the spec" : $"service name '{name}' must be 1-63 letters, digits, '-', '_' or '.'", "invalid_name").ConfigureAwait(false);
            return;
        }
        await _changes.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (await _store.GetServiceAsync(name, ct).ConfigureAwait(false) is not null)
            {
                // `wf up` again with the same spec is a no-op that answers where the service is, so scripts can run it freely.
                if (_controllers.TryGetValue(name, out var running) && running.CurrentSpec.Equals(spec with { Name = running.CurrentSpec.Name }))
                {
                    await context.Response.WriteAsJsonAsync(await ViewAsync(running, ct).ConfigureAwait(false) with { Existing = true }, DaemonJsonContext.Default.ServiceView, cancellationToken: ct).ConfigureAwait(false);
                    return;
                }
                await Error(context, 409, $"service '{name}' already exists with a different spec: `wf update {name} SPEC` changes it, `wf down {name}` removes it", "exists").ConfigureAwait(false);
                return;
            }
            await _store.CreateServiceAsync(name, request.SpecYaml, "CONTROLLER_INIT", ct).ConfigureAwait(false);
            ServiceController controller;
            try
            {
                controller = await StartControllerAsync(name, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException)
            {
                // Nothing was launched yet: forget the service so the user can fix the spec and run `wf up` again.
                await _store.DeleteServiceAsync(name, CancellationToken.None).ConfigureAwait(false);
                await Error(context, 400, $"service '{name}' could not start: {e.Message}", "start_failed").ConfigureAwait(false);
                return;
            }
            _controllers[name] = controller;
            Log.ServiceCreated(_logger, name, controller.Endpoint);
            context.Response.StatusCode = 201;
            await context.Response.WriteAsJsonAsync(await ViewAsync(controller, ct).ConfigureAwait(false), DaemonJsonContext.Default.ServiceView, cancellationToken: ct).ConfigureAwait(false);
        }
        finally
        {
            _changes.Release();
        }
    }

    private async Task GetAsync(HttpContext context, string name)
    {
        if (await FindAsync(context, name).ConfigureAwait(false) is { } controller)
            await context.Response.WriteAsJsonAsync(await ViewAsync(controller, context.RequestAborted).ConfigureAwait(false), DaemonJsonContext.Default.ServiceView, cancellationToken: context.RequestAborted).ConfigureAwait(false);
    }

    private async Task<List<ServiceView>> ListAsync(CancellationToken cancellationToken)
    {
        var views = new List<ServiceView>();
        foreach (var controller in _controllers.Values.OrderBy(c => c.Name, StringComparer.Ordinal))
            views.Add(await ViewAsync(controller, cancellationToken).ConfigureAwait(false));
        return views;
    }

    private async Task UpdateAsync(HttpContext context, string name)
    {
        if (await FindAsync(context, name).ConfigureAwait(false) is not { } controller)
            return;
        var request = await ReadAsync(context, DaemonJsonContext.Default.UpdateServiceRequest).ConfigureAwait(false);
        if (request is null)
            return;
        int updated;
        bool rolling, inPlace;
        try
        {
            ServiceSpec spec;
            if (request.SpecYaml is { } yaml)
            {
                spec = ServiceSpecParser.Parse(yaml, request.SourceName);
            }
            else if (request.MinReplicas is { } min)
            {
                var current = controller.CurrentSpec;
                var policy = current.Service.ReplicaPolicy;
                // Raising min above max raises max with it; without a QPS target min and max must stay equal.
                var max = policy.TargetQpsPerReplica is null ? min : Math.Max(policy.EffectiveMaxReplicas, min);
                spec = current with { Service = current.Service with { ReplicaPolicy = policy with { MinReplicas = min, MaxReplicas = max } } };
            }
            else
            {
                await Error(context, 400, "give min_replicas or spec_yaml", "invalid_request").ConfigureAwait(false);
                return;
            }
            (rolling, inPlace) = (controller.NeedsNewReplicas(spec), controller.RollsInPlace(spec));
            updated = await controller.UpdateAsync(spec, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ServiceSpecException e)
        {
            await Error(context, 400, e.Message, "spec_error").ConfigureAwait(false);
            return;
        }
        catch (ArgumentException e)
        {
            await Error(context, 400, e.Message, "invalid_value").ConfigureAwait(false);
            return;
        }
        // The answer names the version just created; the loop applies it on its next tick.
        var view = await ViewAsync(controller, context.RequestAborted).ConfigureAwait(false) with
        {
            Version = updated,
            Rollout = !rolling ? "none" : inPlace ? "in_place" : "surge",
        };
        await context.Response.WriteAsJsonAsync(view, DaemonJsonContext.Default.ServiceView, cancellationToken: context.RequestAborted).ConfigureAwait(false);
    }

    private async Task LogsAsync(HttpContext context, string name)
    {
        if (await FindAsync(context, name).ConfigureAwait(false) is not { } controller)
            return;
        var query = context.Request.Query;
        var follow = query.ContainsKey("follow") && query["follow"] != "false";
        int? tail = int.TryParse(query["tail"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var t) ? t : null;
        int replica;
        if (!int.TryParse(query["replica"], NumberStyles.Integer, CultureInfo.InvariantCulture, out replica))
        {
            if (controller.Snapshot.Replicas.Count == 0)
            {
                await Error(context, 404, $"service '{name}' has no replicas; name one: `wf logs {name} REPLICA`", "no_replica").ConfigureAwait(false);
                return;
            }
            replica = controller.Snapshot.Replicas[0].Id;
        }
        var lines = await controller.OpenLogsAsync(replica, tail, follow, context.RequestAborted).ConfigureAwait(false);
        if (lines is null)
        {
            await Error(context, 404, $"service '{name}' has no replica {replica}; `wf status {name}` lists them", "no_replica").ConfigureAwait(false);
            return;
        }
        context.Response.ContentType = "text/plain; charset=utf-8";
        try
        {
            await foreach (var line in lines.ConfigureAwait(false))
            {
                await context.Response.WriteAsync(line + "\n", context.RequestAborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client stopped following.
        }
    }

    private async Task DeleteAsync(HttpContext context, string name)
    {
        await _changes.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            if (await FindAsync(context, name).ConfigureAwait(false) is not { } controller)
                return;
            // The service is torn down even if the client goes away mid-drain: a half-removed service helps no one.
            await controller.ShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            await controller.DisposeAsync().ConfigureAwait(false);
            _controllers.TryRemove(name, out _);
            await _store.DeleteServiceAsync(name, CancellationToken.None).ConfigureAwait(false);
            Log.ServiceDeleted(_logger, name);
            context.Response.StatusCode = 204;
        }
        finally
        {
            _changes.Release();
        }
    }

    private async Task<ServiceController?> FindAsync(HttpContext context, string name)
    {
        if (_controllers.TryGetValue(name, out var controller))
            return controller;
        var known = string.Join(", ", _controllers.Keys.Order(StringComparer.Ordinal));
        await Error(context, 404, $"no service named '{name}'" + (known.Length > 0 ? $"; services: {known}" : "; `wf up SPEC` starts one"), "unknown_service").ConfigureAwait(false);
        return null;
    }

    private async Task<ServiceView> ViewAsync(ServiceController controller, CancellationToken cancellationToken)
    {
        var s = controller.Snapshot;
        var record = await _store.GetServiceAsync(controller.Name, cancellationToken).ConfigureAwait(false);
        return new ServiceView
        {
            Name = s.Name,
            Version = controller.LatestVersion,
            Status = s.Status,
            Endpoint = s.Endpoint.ToString().TrimEnd('/'),
            CreatedAt = record?.CreatedAt ?? default,
            TargetReplicas = s.TargetReplicas,
            ReadyReplicas = s.ReadyCount,
            Qps = s.Qps,
            CostPerHour = s.CostPerHour,
            Replicas = [.. s.Replicas.Select(r => new ReplicaView
            {
                Id = r.Id,
                Tier = r.Tier,
                Status = r.Status.ToSkyServeName(),
                Endpoint = r.Endpoint,
                CostPerHour = r.CostPerHour,
                Pid = r.Pid,
                Version = r.Version,
                Launched = r.LaunchedAt,
                FailureReason = r.FailureReason,
            })],
            Failure = s.Failure,
            LastFailure = s.LastFailure,
            LastFailedReplica = s.LastFailedReplica,
            NextLaunchAt = s.NextLaunchAt,
            Auth = CurrentAuth.Requires(s.Name) ? "keys" : "open",
        };
    }

    private static async Task<T?> ReadAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) where T : class
    {
        if (!context.Request.HasJsonContentType())
        {
            await Error(context, 400, $"the request body must be JSON sent with 'Content-Type: application/json', not '{context.Request.ContentType}'", "invalid_content_type").ConfigureAwait(false);
            return null;
        }
        try
        {
            var value = await context.Request.ReadFromJsonAsync(type, context.RequestAborted).ConfigureAwait(false);
            if (value is not null)
                return value;
        }
        catch (JsonException e)
        {
            await Error(context, 400, "the request body is not valid JSON: " + e.Message, "invalid_request").ConfigureAwait(false);
            return null;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await Error(context, 413, $"the request body is larger than the admin API's limit of {Security.AdminGuard.MaxBodyBytes} bytes", "request_too_large").ConfigureAwait(false);
            return null;
        }
        catch (BadHttpRequestException e)
        {
            await Error(context, 400, "the request body could not be read: " + e.Message, "invalid_request").ConfigureAwait(false);
            return null;
        }
        await Error(context, 400, "the request needs a JSON body", "invalid_request").ConfigureAwait(false);
        return null;
    }

    private static Task Error(HttpContext context, int status, string message, string code) =>
        OpenAiError.WriteAsync(context, status, message, status >= 500 ? "server_error" : "invalid_request_error", code);

    private static bool IsSafeName(string name) =>
        name is { Length: > 0 and <= 63 } && name[0] != '.' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
