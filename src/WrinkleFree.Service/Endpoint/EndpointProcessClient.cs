using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WrinkleFree.Platform.Files;
using WrinkleFree.Platform.Home;
using WrinkleFree.Platform.Processes;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Endpoint;

/// <summary>How the controller starts an endpoint process: the command that runs `wf` and where the home is.</summary>
/// <param name="Home">The WrinkleFree home (0700): the options, identity and control socket live under run/endpoints.</param>
/// <param name="WfCommand">The program and arguments that run this `wf` (the endpoint is `WfCommand endpoint NAME`).</param>
public sealed record EndpointProcessSettings(string Home, IReadOnlyList<string> WfCommand);

/// <summary>
/// The controller's side of an endpoint process (<see cref="EndpointHost"/>): starts it or adopts the one still running,
/// keeps it told of the replicas (a background pump pushes the whole state whenever it changes and every second, so a
/// restarted endpoint catches up at once), reads back request arrivals for the autoscaler and in-flight counts for
/// drains, and starts a new endpoint on the same port if the process dies. Disposing lets go of the process (it keeps
/// serving); <see cref="CloseAsync"/> stops it.
/// </summary>
public sealed class EndpointProcessClient : IServiceEndpoint
{
    private static readonly TimeSpan PumpInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly EndpointProcessSettings _settings;
    private readonly string _service;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private HttpClient _http;
    private EndpointIdentity _identity;
    private ServiceLoadBalancerOptions _options;
    private Security.EndpointAuth _auth;
    private IReadOnlyList<ReplicaEndpoint> _replicas = [];
    private bool _scalingUp;
    private bool _coldStart;
    private long _seenArrival;
    private long _lastSeq;
    private ServiceState? _metrics;
    private readonly List<ScaleEventCount> _unsentScaleEvents = [];
    private IReadOnlyDictionary<string, int> _inFlight = new Dictionary<string, int>();
    private long _version;
    private bool _told;
    private TaskCompletionSource _dirty = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _pump = Task.CompletedTask;
    private int _disposed;

    private EndpointProcessClient(EndpointProcessSettings settings, string service, ServiceLoadBalancerOptions options, Security.EndpointAuth auth, EndpointIdentity identity, HttpClient http, TimeProvider time, ILogger logger)
    {
        (_settings, _service, _options, _auth, _identity, _http, _time, _logger) = (settings, service, options, auth, identity, http, time, logger);
        _lastSeq = identity.ArrivalSeq;
        BaseUrl = new Uri(identity.BaseUrl);
    }

    /// <summary>Called when the endpoint process had to be started again (it died); the argument says why.</summary>
    public Action<string>? OnRestarted { get; set; }

    /// <inheritdoc />
    public Uri BaseUrl { get; private set; }

    /// <summary>The endpoint process's id.</summary>
    public int Pid => _identity.Pid;

    /// <inheritdoc />
    public Action<DateTimeOffset>? OnRequest { get; set; }

    /// <inheritdoc />
    public string Policy => _options.Policy;

    /// <inheritdoc />
    public bool ScalingUp
    {
        get => _scalingUp;
        set => Change(() =>
        {
            _scalingUp = value;
            _seenArrival = Interlocked.Read(ref _lastSeq);
        });
    }

    /// <inheritdoc />
    public bool ColdStart
    {
        get => _coldStart;
        set => Change(() => _coldStart = value);
    }

    /// <summary>
    /// Adopts the endpoint process of <paramref name="service"/> if one still runs (same pid and start time, answering on
    /// its socket), else starts one with <paramref name="options"/>. Throws <see cref="IOException"/> when it does not
    /// come up, naming its log.
    /// </summary>
    public static Task<EndpointProcessClient> StartOrAdoptAsync(
        EndpointProcessSettings settings, string service, ServiceLoadBalancerOptions options, bool allowOtherPort, TimeProvider time, ILogger logger, CancellationToken cancellationToken) =>
        StartOrAdoptAsync(settings, service, options, Security.EndpointAuth.Open, allowOtherPort, time, logger, cancellationToken);

    /// <summary>As above, with the API keys of <paramref name="auth"/> in force from the endpoint's first request
    /// (an adopted endpoint is told them before this returns).</summary>
    public static async Task<EndpointProcessClient> StartOrAdoptAsync(
        EndpointProcessSettings settings, string service, ServiceLoadBalancerOptions options, Security.EndpointAuth auth, bool allowOtherPort, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(settings);
        options.Validate();
        var socket = EndpointPaths.Socket(settings.Home, service);
        var http = new HttpClient(EndpointPaths.Handler(socket)) { BaseAddress = new Uri("http://endpoint/"), Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            var identity = await TryAdoptAsync(settings.Home, service, http, cancellationToken).ConfigureAwait(false);
            if (identity is not null)
            {
                Log.Adopted(logger, service, identity.Pid, identity.BaseUrl);
                await PutAuthAsync(http, auth, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                identity = await LaunchAsync(settings, service, options, auth, allowOtherPort, http, time, cancellationToken).ConfigureAwait(false);
                Log.Started(logger, service, identity.Pid, identity.BaseUrl);
            }
            var client = new EndpointProcessClient(settings, service, options, auth, identity, http, time, logger);
            client._pump = Task.Run(() => client.PumpAsync(client._stopping.Token), CancellationToken.None);
            return client;
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void UpdateReplicas(IReadOnlyList<ReplicaEndpoint> replicas) => Change(() =>
    {
        _replicas = replicas;
        _told = true;
    });

    /// <inheritdoc />
    public void Reconfigure(ServiceLoadBalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // The same fixed settings as the in-process balancer: a change there needs a new endpoint (a service restart).
        _options.CheckFixed(options, BaseUrl.Port);
        Change(() => _options = options with { Port = BaseUrl.Port });
    }

    /// <inheritdoc />
    public async Task SetAuthAsync(Security.EndpointAuth auth, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auth);
        // Kept first: an endpoint restarted by the pump starts with these keys even if the push below fails.
        Volatile.Write(ref _auth, auth);
        await PutAuthAsync(_http, auth, cancellationToken).ConfigureAwait(false);
    }

    private static async Task PutAuthAsync(HttpClient http, Security.EndpointAuth auth, CancellationToken cancellationToken)
    {
        using var response = await http.PutAsJsonAsync("control/auth", auth, EndpointJsonContext.Default.EndpointAuth, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, int> GetInFlight() => Volatile.Read(ref _inFlight);

    /// <inheritdoc />
    public void Publish(ServiceState state) => Change(() =>
    {
        _unsentScaleEvents.AddRange(state.ScaleEvents);
        _metrics = state;
    });

    /// <inheritdoc />
    public async Task CloseAsync()
    {
        await StopPumpAsync().ConfigureAwait(false);
        var pid = _identity.Pid;
        try
        {
            using var response = await _http.PostAsync("control/shutdown", null).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Not answering: the signal below stops it.
        }
        if (!await ProcessGroup.WaitGoneAsync(pid, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50), _time, CancellationToken.None).ConfigureAwait(false)
            && LinuxProcess.Identify(pid, _identity.StartTime, _identity.BootId) == ProcessIdentity.Same)
        {
            await ProcessGroup.TerminateAsync(pid, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(50), _time, null, CancellationToken.None).ConfigureAwait(false);
        }
        foreach (var path in new[] { EndpointPaths.Identity(_settings.Home, _service), EndpointPaths.Options(_settings.Home, _service) })
            File.Delete(path);
        _http.Dispose();
    }

    /// <summary>Stops pushing state; the endpoint process keeps serving for the next controller to adopt.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        await StopPumpAsync().ConfigureAwait(false);
        _http.Dispose();
    }

    private async Task StopPumpAsync()
    {
        if (!_stopping.IsCancellationRequested)
            await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _pump.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The pump ends by cancellation.
        }
    }

    private void Change(Action change)
    {
        lock (_gate)
        {
            change();
            _version++;
            _dirty.TrySetResult();
        }
    }

    /// <summary>Pushes the state when it changed (and as a heartbeat), reads arrivals and in-flight counts, restarts a dead endpoint.</summary>
    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        long sentVersion = -1;
        var lastSent = long.MinValue;
        while (!cancellationToken.IsCancellationRequested)
        {
            Task dirty;
            lock (_gate)
                dirty = _dirty.Task;
            try
            {
                await Task.WhenAny(dirty, Task.Delay(PumpInterval, _time, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                EndpointState? state = null;
                long version;
                ScaleEventCount[] scaleEvents;
                lock (_gate)
                {
                    if (_dirty.Task.IsCompleted)
                        _dirty = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    version = _version;
                    scaleEvents = [.. _unsentScaleEvents];
                    // Nothing is pushed before the controller has said which replicas there are: an adopted endpoint keeps
                    // routing to the ones it knows instead of being emptied by a controller still adopting its replicas.
                    if (_told && (version != sentVersion || lastSent == long.MinValue || _time.GetElapsedTime(lastSent) >= Heartbeat))
                    {
                        state = new EndpointState
                        {
                            Replicas = [.. _replicas],
                            ScalingUp = _scalingUp,
                            ColdStart = _coldStart,
                            SeenArrival = _seenArrival,
                            Options = _options,
                            Metrics = _metrics is null ? null : _metrics with { ScaleEvents = scaleEvents },
                        };
                    }
                }
                if (state is not null)
                {
                    using var response = await _http.PutAsJsonAsync("control/state", state, EndpointJsonContext.Default.EndpointState, cancellationToken).ConfigureAwait(false);
                    response.EnsureSuccessStatusCode();
                    lock (_gate)
                        _unsentScaleEvents.RemoveRange(0, Math.Min(scaleEvents.Length, _unsentScaleEvents.Count));
                    sentVersion = version;
                    lastSent = _time.GetTimestamp();
                }
                await ReadStatsAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or JsonException)
            {
                Log.Unreachable(_logger, _service, e.Message);
                if (LinuxProcess.Identify(_identity.Pid, _identity.StartTime, _identity.BootId) != ProcessIdentity.Same)
                {
                    await RestartAsync(cancellationToken).ConfigureAwait(false);
                    sentVersion = -1;
                }
                else
                {
                    await Task.Delay(PumpInterval, _time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task ReadStatsAsync(CancellationToken cancellationToken)
    {
        var after = Interlocked.Read(ref _lastSeq);
        var stats = await _http.GetFromJsonAsync($"control/stats?after={after}", EndpointJsonContext.Default.EndpointStats, cancellationToken).ConfigureAwait(false);
        if (stats is null)
            return;
        Volatile.Write(ref _inFlight, stats.InFlight);
        if (stats.Seq < after)
        {
            // A new endpoint process counts from zero again.
            Interlocked.Exchange(ref _lastSeq, stats.Seq);
            return;
        }
        var callback = OnRequest;
        foreach (var at in stats.Arrivals)
            callback?.Invoke(DateTimeOffset.FromUnixTimeMilliseconds(at));
        Interlocked.Exchange(ref _lastSeq, stats.Seq);
    }

    /// <summary>The endpoint process died: a new one on the same port, told the whole state at once.</summary>
    private async Task RestartAsync(CancellationToken cancellationToken)
    {
        var dead = _identity.Pid;
        Log.Restarting(_logger, _service, dead, BaseUrl);
        try
        {
            var options = _options with { Port = BaseUrl.Port };
            _identity = await LaunchAsync(_settings, _service, options, Volatile.Read(ref _auth), allowOtherPort: false, _http, _time, cancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _lastSeq, 0);
            OnRestarted?.Invoke($"the endpoint process {dead} was gone; process {_identity.Pid} serves {BaseUrl} again");
        }
        catch (IOException e)
        {
            Log.Unreachable(_logger, _service, e.Message);
            await Task.Delay(TimeSpan.FromSeconds(2), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<EndpointIdentity?> TryAdoptAsync(string home, string service, HttpClient http, CancellationToken cancellationToken)
    {
        if (EndpointHost.ReadIdentity(home, service) is not { } recorded
            || LinuxProcess.Identify(recorded.Pid, recorded.StartTime, recorded.BootId) != ProcessIdentity.Same)
            return null;
        try
        {
            var live = await http.GetFromJsonAsync("control/health", EndpointJsonContext.Default.EndpointIdentity, cancellationToken).ConfigureAwait(false);
            return live?.Pid == recorded.Pid ? recorded with { ArrivalSeq = live.ArrivalSeq } : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    private static async Task<EndpointIdentity> LaunchAsync(
        EndpointProcessSettings settings, string service, ServiceLoadBalancerOptions options, Security.EndpointAuth auth, bool allowOtherPort, HttpClient http, TimeProvider time, CancellationToken cancellationToken)
    {
        WfHome.CreatePrivateDirectory(EndpointPaths.Folder(settings.Home));
        var start = new EndpointStartOptions { Balancer = options, AllowOtherPort = allowOtherPort, Auth = auth };
        AtomicFile.Write(EndpointPaths.Options(settings.Home, service), s => JsonSerializer.Serialize(s, start, EndpointJsonContext.Default.EndpointStartOptions), WfHome.PrivateFileMode);
        File.Delete(EndpointPaths.Identity(settings.Home, service));
        var log = EndpointPaths.Log(settings.Home, service);
        int pid;
        using (var process = SessionProcess.Start([.. settings.WfCommand, "endpoint", service], log, environment: [new(WfHome.Variable, settings.Home)], name: "wf-endpoint"))
            pid = process.Id;
        var started = time.GetTimestamp();
        while (time.GetElapsedTime(started) < StartTimeout)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken).ConfigureAwait(false);
            if (EndpointHost.ReadIdentity(settings.Home, service) is { } identity && identity.Pid == pid)
            {
                try
                {
                    using var response = await http.GetAsync("control/health", cancellationToken).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                        return identity;
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
            }
            if (LinuxProcess.ReadStat(pid) is not { IsDead: false })
                break;
        }
        if (LinuxProcess.GroupAlive(pid))
            LinuxProcess.SignalGroup(pid, LinuxProcess.Sigkill);
        throw new IOException($"the endpoint process of '{service}' did not come up on port {options.Port} within {StartTimeout.TotalSeconds:0} s; see {log}");
    }
}
