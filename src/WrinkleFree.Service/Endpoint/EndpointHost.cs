using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Files;
using WrinkleFree.Platform.Home;
using WrinkleFree.Platform.Processes;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Endpoint;

/// <summary>
/// The process behind `wf endpoint NAME`: one service's endpoint (a <see cref="ServiceLoadBalancer"/>) living apart from
/// the daemon, so that the controller can die, even by SIGKILL, without a single client request failing: the endpoint
/// keeps routing to the replicas it was last told about (they run in their own sessions too) and the restarted
/// controller adopts it. The controller drives it over a Unix socket in the private home (<see cref="EndpointState"/>
/// in, <see cref="EndpointStats"/> out).
/// </summary>
public static class EndpointHost
{
    private const int MaxArrivals = 100_000;

    /// <summary>Serves until <paramref name="stop"/> (SIGTERM) or the controller's POST /control/shutdown; returns the exit code.</summary>
    public static async Task<int> RunAsync(string home, string service, TimeProvider time, ILoggerFactory loggers, CancellationToken stop)
    {
        var logger = loggers.CreateLogger("WrinkleFree.Service.Endpoint");
        var optionsPath = EndpointPaths.Options(home, service);
        EndpointStartOptions start;
        try
        {
            start = JsonSerializer.Deserialize(await File.ReadAllTextAsync(optionsPath, stop).ConfigureAwait(false), EndpointJsonContext.Default.EndpointStartOptions)
                ?? throw new JsonException("empty");
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            Log.NoOptions(logger, optionsPath, e.Message);
            return 2;
        }

        ServiceLoadBalancer balancer;
        try
        {
            balancer = await ServiceLoadBalancer.StartAsync(start.Balancer, start.Auth ?? Security.EndpointAuth.Open, time, loggers, null, stop).ConfigureAwait(false);
        }
        catch (IOException) when (start.AllowOtherPort && start.Balancer.Port != 0)
        {
            // The endpoint's previous port was taken while it was down: a new one beats no service.
            balancer = await ServiceLoadBalancer.StartAsync(start.Balancer with { Port = 0 }, start.Auth ?? Security.EndpointAuth.Open, time, loggers, null, stop).ConfigureAwait(false);
        }
        catch (Platform.Tls.TlsFileException e)
        {
            Tls.Log.EndpointTlsFailed(logger, service, e.Message);
            return 2;
        }

        await using (balancer)
        {
            var arrivals = new Arrivals();
            balancer.OnRequest = at => arrivals.Add(at);
            using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var socket = EndpointPaths.Socket(home, service);
            WfHome.CreatePrivateDirectory(EndpointPaths.Folder(home));
            File.Delete(socket);
            var control = await StartControlAsync(socket, balancer, arrivals, shutdown, service, logger).ConfigureAwait(false);
            await using (control)
            {
                var stat = LinuxProcess.ReadStat(Environment.ProcessId);
                var identity = new EndpointIdentity
                {
                    Service = service,
                    Pid = Environment.ProcessId,
                    StartTime = stat?.StartTime,
                    BootId = LinuxProcess.BootId,
                    BaseUrl = balancer.BaseUrl.ToString(),
                    Policy = balancer.Policy,
                };
                AtomicFile.Write(EndpointPaths.Identity(home, service),
                    s => JsonSerializer.Serialize(s, identity, EndpointJsonContext.Default.EndpointIdentity), WfHome.PrivateFileMode);
                Log.Serving(logger, service, balancer.BaseUrl, socket);
                try
                {
                    await Task.Delay(Timeout.Infinite, shutdown.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // SIGTERM or the controller's shutdown: stop serving.
                }
                Log.Stopping(logger, service);
            }
            TryDelete(socket);
            // Only our own identity: a successor may already have written its own.
            if (ReadIdentity(home, service)?.Pid == Environment.ProcessId)
                TryDelete(EndpointPaths.Identity(home, service));
        }
        return 0;
    }

    /// <summary>The identity file of <paramref name="service"/>'s endpoint, or null.</summary>
    public static EndpointIdentity? ReadIdentity(string home, string service)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(EndpointPaths.Identity(home, service)), EndpointJsonContext.Default.EndpointIdentity);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static async Task<WebApplication> StartControlAsync(
        string socket, ServiceLoadBalancer balancer, Arrivals arrivals, CancellationTokenSource shutdown, string service, ILogger logger)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, EndpointJsonContext.Default));
        builder.WebHost.UseKestrel(k => k.ListenUnixSocket(socket));
        var app = builder.Build();
        var gate = new Lock();
        app.MapGet("/control/health", () => Results.Json(new EndpointIdentity
        {
            Service = service,
            Pid = Environment.ProcessId,
            BaseUrl = balancer.BaseUrl.ToString(),
            ArrivalSeq = arrivals.Seq,
            Policy = balancer.Policy,
        }, EndpointJsonContext.Default.EndpointIdentity));
        app.MapGet("/control/stats", (long after) =>
        {
            var (seq, times) = arrivals.After(after);
            return Results.Json(new EndpointStats { Seq = seq, Arrivals = times, InFlight = new Dictionary<string, int>(balancer.GetInFlight()) }, EndpointJsonContext.Default.EndpointStats);
        });
        app.MapPut("/control/state", async (HttpContext context) =>
        {
            var state = await context.Request.ReadFromJsonAsync(EndpointJsonContext.Default.EndpointState, context.RequestAborted).ConfigureAwait(false);
            if (state is null)
                return Results.BadRequest();
            try
            {
                if (state.Options is { } options)
                    balancer.Reconfigure(options with { Port = 0 });
            }
            catch (ArgumentException e)
            {
                Log.ReconfigureRejected(logger, e.Message);
            }
            balancer.UpdateReplicas(state.Replicas);
            lock (gate)
            {
                balancer.ColdStart = state.ColdStart;
                // A cold-start request the controller has not counted yet keeps waiting for the replica it will bring.
                balancer.ScalingUp = state.ScalingUp || (state.ColdStart && arrivals.Seq > state.SeenArrival);
            }
            if (state.Metrics is { } metrics)
                balancer.Publish(metrics);
            return Results.NoContent();
        });
        // Answered only once the new keys are in force: the daemon's `wf keys` call waits for it.
        app.MapPut("/control/auth", async (HttpContext context) =>
        {
            var auth = await context.Request.ReadFromJsonAsync(EndpointJsonContext.Default.EndpointAuth, context.RequestAborted).ConfigureAwait(false);
            if (auth is null)
                return Results.BadRequest();
            await balancer.SetAuthAsync(auth, context.RequestAborted).ConfigureAwait(false);
            return Results.NoContent();
        });
        app.MapPost("/control/shutdown", () =>
        {
            shutdown.CancelAfter(TimeSpan.FromMilliseconds(100));
            return Results.Accepted();
        });
        await app.StartAsync(shutdown.Token).ConfigureAwait(false);
        return app;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left for the next start, which replaces it.
        }
    }

    /// <summary>
    /// Arrival times with consecutive sequence numbers, at least the latest <see cref="MaxArrivals"/> kept. The controller
    /// asks every 200 ms for those after the last it saw: they are the list's tail, found by arithmetic, not by a scan.
    /// </summary>
    private sealed class Arrivals
    {
        private readonly List<long> _times = [];
        private readonly Lock _gate = new();
        private long _seq;

        public long Seq
        {
            get
            {
                lock (_gate)
                    return _seq;
            }
        }

        public void Add(DateTimeOffset at)
        {
            lock (_gate)
            {
                _seq++;
                _times.Add(at.ToUnixTimeMilliseconds());
                // Trimmed in bulk so a request pays for a shift only once every MaxArrivals arrivals.
                if (_times.Count >= 2 * MaxArrivals)
                    _times.RemoveRange(0, _times.Count - MaxArrivals);
            }
        }

        /// <summary>The sequence of the latest arrival and the times of those after <paramref name="after"/>, oldest first.</summary>
        public (long Seq, List<long> Times) After(long after)
        {
            lock (_gate)
            {
                var newer = (int)Math.Clamp(_seq - after, 0, _times.Count);
                return (_seq, _times.GetRange(_times.Count - newer, newer));
            }
        }
    }
}
