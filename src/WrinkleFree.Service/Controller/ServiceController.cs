using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.Cost;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Service.Placement;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;
using WrinkleFree.Service.State;

namespace WrinkleFree.Service.Controller;

/// <summary>
/// The reconcile loop of one service: each tick probes every replica, asks <see cref="ControllerDecisionCore"/> for a
/// target and a placement plan, launches and drains replicas through the tier's provider, and pushes the ready ones to
/// the service's <see cref="ServiceLoadBalancer"/>. Every replica is recorded in the <see cref="ServiceStore"/> before it
/// is launched, so a controller restarted after any crash adopts what runs and launches nothing twice.
/// </summary>
/// <remarks>
/// The loop owns all replica state; other threads see only the immutable <see cref="Snapshot"/> and hand updates over
/// through an atomically swapped slot, so no lock is held across I/O.
/// </remarks>
public sealed class ServiceController : IAsyncDisposable
{
    // How long a tick waits for a provider's status answer before going on without it.
    private static readonly TimeSpan StatusWait = TimeSpan.FromSeconds(1);

    private readonly string _name;
    private readonly ServiceStore _store;
    private readonly IReadOnlyDictionary<string, IReplicaProvider> _providers;
    private readonly ServiceControllerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IServiceEndpoint _balancer;
    private readonly HttpClient _http;
    private readonly ReplicaProber _prober;
    private readonly TokenCounterScraper _scraper;
    private Task _usageScrape = Task.CompletedTask;
    private long? _lastUsageScrape;
    private volatile IReadOnlyList<TierUsage> _usage = [];
    private readonly Tls.ServicePki? _pki;
    private readonly ControllerDecisionCore _core;
    private readonly CrashLoopGuard _guard;
    private readonly List<ServiceEvent> _events = [];
    private readonly List<ScaleEventCount> _scaleEvents = [];
    private readonly Dictionary<int, Tracked> _replicas = [];
    private readonly SemaphoreSlim _updateLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _wake = NewSignal();
    private Task _loop = Task.CompletedTask;
    private ServiceSpec _spec;
    private int _version;
    private int _rollout;
    private ProbePolicy _probePolicy;
    private string _status = "CONTROLLER_INIT";
    private ServiceSnapshot _snapshot;
    private Pending? _pending;
    private ServiceSpec _latestSpec;
    private int _latestRollout;
    private int _latestVersion;
    private int _disposed;
    private readonly Lock _coldGate = new();
    private int _coldRequests;
    private long _ticks;
    private string _capacities;

    private ServiceController(
        string name, ServiceStore store, IReadOnlyDictionary<string, IReplicaProvider> providers, ServiceControllerOptions options,
        TimeProvider time, ILogger logger, IServiceEndpoint balancer, ServiceSpec spec, int version, int rollout, Tls.ServicePki? pki)
    {
        _pki = pki;
        (_name, _store, _providers, _options, _time, _logger, _balancer) = (name, store, providers, options, time, logger, balancer);
        (_spec, _version, _rollout, _latestSpec, _latestRollout, _latestVersion) = (spec, version, rollout, spec, rollout, version);
        _probePolicy = SpecMapping.ToProbePolicy(spec);
        _core = new ControllerDecisionCore(new RequestRateAutoscaler(SpecMapping.ToAutoscalerPolicy(spec, TickOf(spec)), time), SpecMapping.ToPlanner(spec, HasProvider, options.Machine, FoundCapacity), time)
        {
            CapacityCooldown = options.SpotCapacityCooldown,
        };
        _capacities = CapacitiesOf(spec);
        _guard = new CrashLoopGuard(spec.Service.FailurePolicy);
        var probeHandler = new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false };
        // Probes reach mTLS replicas as the balancer does: the service's client certificate, only the service's CA trusted.
        Tls.ReplicaClientTls.Configure(probeHandler, pki?.ClientFiles, time, logger);
        _http = new HttpClient(probeHandler) { Timeout = Timeout.InfiniteTimeSpan };
        _prober = new ReplicaProber(_http, time);
        _scraper = new TokenCounterScraper(_http);
        _snapshot = new ServiceSnapshot(name, version, _status, balancer.BaseUrl, _core.Autoscaler.TargetReplicas, 0, []);
        if (balancer is Endpoint.EndpointProcessClient process)
        {
            // Called from the endpoint's pump, not the loop: straight to the store.
            process.OnRestarted = why => _ = RecordAsync(new ServiceEvent { Service = name, Kind = ServiceEventKinds.EndpointRestarted, Message = why });
        }
        balancer.OnRequest = _ =>
        {
            // At zero replicas the first request must not wait for the next tick (skypilot#3359), nor be turned away
            // before the controller has seen it: it holds the balancer in scaling-up mode until a tick has decided.
            if (_core.Autoscaler.RecordRequest())
            {
                // Under the gate shared with PushToBalancer: a push computed before this count cannot land after it.
                lock (_coldGate)
                {
                    _coldRequests++;
                    _balancer.ScalingUp = true;
                }
                Wake();
            }
        };
    }

    /// <summary>The service name.</summary>
    public string Name => _name;

    /// <summary>The service endpoint clients call.</summary>
    public Uri Endpoint => _balancer.BaseUrl;

    /// <summary>The service's private CA (mutual TLS to replicas); null when the controller has no PKI folder.</summary>
    internal Tls.ServicePki? Pki => _pki;

    /// <summary>Puts a new API key set in force at the service's endpoint; completes once it checks requests against it.</summary>
    public Task SetAuthAsync(Security.EndpointAuth auth, CancellationToken cancellationToken) => _balancer.SetAuthAsync(auth, cancellationToken);

    /// <summary>The state after the latest tick.</summary>
    public ServiceSnapshot Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>
    /// The newest version stored, from the moment <see cref="UpdateAsync"/> returns; <see cref="Snapshot"/> carries it
    /// only after the tick that applies it ends, so status read between the two would show the version before.
    /// </summary>
    public int LatestVersion => Volatile.Read(ref _latestVersion);

    /// <summary>
    /// Starts the controller of a service already created in <paramref name="store"/>: opens its endpoint, adopts every
    /// replica recorded as not terminated, and starts the loop.
    /// </summary>
    /// <param name="providers">Providers by name (<see cref="ProviderNames"/>); a tier whose provider is missing fails to provision.</param>
    public static async Task<ServiceController> StartAsync(
        string name, ServiceStore store, IReadOnlyDictionary<string, IReplicaProvider> providers, ServiceControllerOptions options,
        TimeProvider time, ILoggerFactory? loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(providers);
        options.Validate();
        var record = await store.GetServiceAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"service '{name}' is not in the state database");
        var spec = ServiceSpecParser.Parse(record.SpecYaml, $"{name} v{record.CurrentVersion}");
        var rollout = await FindRolloutVersionAsync(store, name, cancellationToken).ConfigureAwait(false);
        var logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger<ServiceController>();
        var pki = options.PkiFolder is { } pkiRoot ? Tls.ServicePki.OpenOrCreate(pkiRoot, name, time, logger, options.CertificateLifetime) : null;
        IServiceEndpoint balancer;
        try
        {
            balancer = await StartBalancerAsync(name, spec, options, record.Port, pki?.ClientFiles, time, loggers, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            pki?.Dispose();
            throw;
        }
        var controller = new ServiceController(name, store, providers, options, time, logger, balancer, spec, record.CurrentVersion, rollout, pki);
        try
        {
            if (record.Status == FailedStatus)
                await controller.RestoreFailedAsync(cancellationToken).ConfigureAwait(false);
            var adopted = await controller.AdoptAllAsync(cancellationToken).ConfigureAwait(false);
            await controller.SetServiceStatusAsync(controller._status, cancellationToken).ConfigureAwait(false);
            Log.Started(logger, name, balancer.BaseUrl, record.CurrentVersion, adopted);
        }
        catch
        {
            await controller.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        controller._loop = Task.Run(() => controller.RunAsync(controller._stopping.Token), CancellationToken.None);
        return controller;
    }

    /// <summary>Stores <paramref name="spec"/> as the next version and applies it; replicas roll only when what they run changed.</summary>
    /// <returns>The new version.</returns>
    public async Task<int> UpdateAsync(ServiceSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Tls.EndpointCertificateCheck.CheckUnchanged(_latestSpec.Service.Tls, spec.Service.Tls);
        // Map before storing, so a spec the parts reject never becomes the current version.
        var policy = SpecMapping.ToAutoscalerPolicy(spec, TickOf(spec));
        var planner = SpecMapping.ToPlanner(spec, HasProvider, _options.Machine, FoundCapacity);
        var probe = SpecMapping.ToProbePolicy(spec);
        var balancer = SpecMapping.ToBalancerOptions(spec, _name, _options.ListenAddress, 0, _pki?.ClientFiles);
        balancer.Validate();
        CheckEndpointUnchanged(_latestSpec, spec);
        await _updateLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var version = await _store.AddVersionAsync(_name, spec.ToYaml(), cancellationToken).ConfigureAwait(false);
            var rolling = SpecMapping.NeedsNewReplicas(_latestSpec, spec);
            _latestRollout = rolling ? version.Version : _latestRollout;
            _latestSpec = spec;
            Volatile.Write(ref _latestVersion, version.Version);
            Volatile.Write(ref _pending, new Pending(spec, version.Version, _latestRollout, policy, planner, probe, balancer));
            Log.Updated(_logger, _name, version.Version, rolling);
            Wake();
            return version.Version;
        }
        finally
        {
            _updateLock.Release();
        }
    }

    /// <summary>
    /// True when replicas of a new version cannot start beside the old ones: every tier has a capacity and the live
    /// replicas fill it, so an update stops one old replica before starting each new one.
    /// </summary>
    public bool RollsInPlace(ServiceSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Tiers.Any(t => t.IsUnlimited))
            return false;
        var live = Snapshot.Replicas.Count(r => r.Status.OccupiesCapacity());
        return spec.Tiers.Sum(t => (long)t.Capacity) <= live;
    }

    /// <summary>True when <paramref name="spec"/> changes what replicas run, so they are replaced.</summary>
    public bool NeedsNewReplicas(ServiceSpec spec) => SpecMapping.NeedsNewReplicas(_latestSpec, spec);

    /// <summary>The spec most recently applied or queued by <see cref="UpdateAsync"/>.</summary>
    public ServiceSpec CurrentSpec => _latestSpec;

    /// <summary>
    /// A replica's output (terminated ones included while their log exists), or null when the service has no such replica.
    /// </summary>
    public async Task<IAsyncEnumerable<string>?> OpenLogsAsync(int replicaId, int? tail, bool follow, CancellationToken cancellationToken)
    {
        var record = await _store.GetReplicaAsync(_name, replicaId, cancellationToken).ConfigureAwait(false);
        if (record?.Handle is null || !_providers.TryGetValue(record.Provider, out var provider))
            return null;
        return provider.GetLogsAsync(ReplicaHandle.FromJson(record.Handle), tail, follow && !record.IsTerminated, cancellationToken);
    }

    /// <summary>Stops the loop, drains and stops every replica, and closes the endpoint (the service's records stay).</summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        await StopLoopAsync().ConfigureAwait(false);
        await SetServiceStatusAsync("SHUTTING_DOWN", cancellationToken).ConfigureAwait(false);
        foreach (var r in _replicas.Values)
        {
            if (r.Draining is null && !r.Status.IsTerminal() && r.Handle is not null)
                BeginDrain(r, cancellationToken);
        }
        PushToBalancer();
        foreach (var r in _replicas.Values.ToList())
        {
            if (r.Draining is { } drain)
                await AwaitDrainAsync(r, drain).ConfigureAwait(false);
            else
                await CleanUpAsync(r, cancellationToken).ConfigureAwait(false);
        }
        await PersistAsync(cancellationToken).ConfigureAwait(false);
        PublishSnapshot();
        await _balancer.CloseAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the loop and closes the endpoint, leaving the replicas running for the next controller to adopt.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        await StopLoopAsync().ConfigureAwait(false);
        await _balancer.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
        _pki?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>Runs one reconcile tick now (the loop calls it on its interval; tests may call it between ticks).</summary>
    internal async Task TickAsync(CancellationToken cancellationToken)
    {
        ApplyPendingUpdate();
        RefreshCapacities();
        // Certificates are re-issued at two thirds of their life; replicas and the balancer reload them for new connections.
        _pki?.RotateDue();

        foreach (var r in _replicas.Values.ToList())
        {
            if (r.Draining is { IsCompleted: true } drain)
                await AwaitDrainAsync(r, drain).ConfigureAwait(false);
        }

        var probing = _replicas.Values.Where(r => r.Handle is not null && r.Draining is null && !r.Status.IsTerminal()).ToList();
        await Task.WhenAll(probing.Select(r => ObserveAsync(r, cancellationToken))).ConfigureAwait(false);

        var infos = new List<ReplicaInfo>(_replicas.Count);
        var loads = new List<ReplicaLoad>(_replicas.Count);
        foreach (var r in _replicas.Values)
        {
            // Replicas launched before the latest rolling version run an older program; later ones serve this version as is.
            var version = r.Record.Version >= _rollout ? _version : r.Record.Version;
            infos.Add(new ReplicaInfo(r.Id, r.Record.Tier, r.Status, version, r.Record.LaunchedAt));
            if (r.Status.CountsTowardMax() && r.Status != ReplicaStatus.Pending)
                loads.Add(r.Load with { IsReady = r.Status == ReplicaStatus.Ready });
        }
        // Requests that found the target at zero before this decision are in the window it reads; later ones keep the
        // count above zero, so the push below keeps them waiting for the next tick.
        lock (_coldGate)
            _coldRequests = 0;
        var before = _core.Autoscaler.TargetReplicas;
        var decision = _core.Decide(infos, loads.ToArray(), _version);
        NoteScaling(before, decision.Scaling);
        var now = _time.GetUtcNow();
        var launches = decision.Plan.Launch;
        if (launches.Count > 0 && !_guard.MayLaunch(now))
        {
            // Crash-looping: what failed is cleaned up below, but its replacement waits out the backoff (or never comes
            // once the service gave up), instead of failing again at the tick rate.
            launches = [];
        }

        foreach (var id in decision.Plan.Terminate)
        {
            if (!_replicas.TryGetValue(id, out var r) || r.Draining is not null)
                continue;
            if (r.Status.IsTerminal() || r.Handle is null)
                await CleanUpAsync(r, cancellationToken).ConfigureAwait(false);
            else
                BeginDrain(r, _stopping.Token);
        }
        PushToBalancer();
        await PersistAsync(cancellationToken).ConfigureAwait(false);

        if (decision.Plan.InPlaceRoll && launches.Count == 0)
            _events.Add(new ServiceEvent { Service = _name, Kind = ServiceEventKinds.RollingInPlace, Message = "every tier is full: rolling in place, stopping one old replica before starting its replacement" });
        foreach (var tier in launches)
            await LaunchAsync(tier, cancellationToken).ConfigureAwait(false);

        PushToBalancer();
        await PersistAsync(cancellationToken).ConfigureAwait(false);
        var ready = _replicas.Values.Any(r => r.Status == ReplicaStatus.Ready);
        var status = _guard.GaveUp && !ready ? FailedStatus
            : ready ? "READY" : _core.Autoscaler.TargetReplicas == 0 ? "NO_REPLICA" : "REPLICA_INIT";
        await SetServiceStatusAsync(status, cancellationToken).ConfigureAwait(false);
        await FlushEventsAsync(cancellationToken).ConfigureAwait(false);
        StartUsageScrapeIfDue();
        PublishState(decision.Scaling);
        _ticks++;
        PublishSnapshot();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Exchange(ref _wake, NewSignal());
            try
            {
                await TickAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Log.TickFailed(_logger, _name, e);
            }
            try
            {
                // A wake that came during the tick completed the swapped-in signal: the next tick runs at once.
                await Task.WhenAny(_wake.Task, Task.Delay(TickOf(_spec), _time, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The service status once the controller has stopped replacing replicas that keep failing.</summary>
    public const string FailedStatus = "FAILED";

    /// <summary>
    /// Moves a replica into a failed state with its reason, counts the failure toward the crash-loop guard, and queues the
    /// events that explain what happens next (the backoff, or that the service gave up).
    /// </summary>
    /// <param name="crash">False for a launch refused for want of capacity: recorded like any failure (the planner rests
    /// the tier), but not the replica's fault, so it never counts toward the crash-loop guard nor holds launches back.</param>
    private void Fail(Tracked r, ReplicaStatus status, string reason, bool crash = true)
    {
        r.Status = status;
        r.FailureReason = reason;
        Log.ReplicaFailed(_logger, _name, r.Id, status.ToSkyServeName(), reason);
        _events.Add(ServiceEvents.ReplicaFailed(_name, r.Id, status == ReplicaStatus.Failed ? reason : $"{status.ToSkyServeName()}: {reason}"));
        if (!crash)
            return;
        var gaveUpBefore = _guard.GaveUp;
        var backoff = _guard.RecordFailure(_time.GetUtcNow(), $"replica {r.Id} {status.ToSkyServeName()}: {reason}", r.Id);
        if (_guard.GaveUp && !gaveUpBefore)
        {
            _events.Add(ServiceEvents.ServiceFailed(_name,
                $"{_guard.GaveUpReason}. No more replicas are launched; fix the cause (`wf logs {_name} {r.Id}`) and `wf update {_name} SPEC`"));
        }
        else if (!_guard.GaveUp)
        {
            _events.Add(ServiceEvents.Backoff(_name, backoff, _guard.ConsecutiveFailures, r.Record.Tier));
        }
    }

    /// <summary>Records a change of the autoscaler's target as an event (with the signal that moved it) and for /metrics.</summary>
    private void NoteScaling(int before, ScalingDecision scaling)
    {
        if (ServiceEvents.Scale(_name, before, scaling) is not { } change)
            return;
        var reason = scaling.Reason switch
        {
            ScalingReason.RequestRate => "qps",
            ScalingReason.ScaleFromZero => "scale_from_zero",
            ScalingReason.Latency => "ttft",
            ScalingReason.Emergency => "queue",
            ScalingReason.PolicyChanged => "policy",
            _ => "other",
        };
        _scaleEvents.Add(new ScaleEventCount(scaling.TargetReplicas > before ? "up" : "down", reason, 1));
        _events.Add(change);
    }

    /// <summary>
    /// Every <see cref="ServiceControllerOptions.UsageScrapeInterval"/>, reads the live replicas' token counters into the
    /// store in the background (a slow replica never holds up a tick) and refreshes the cost totals /metrics reports.
    /// </summary>
    private void StartUsageScrapeIfDue()
    {
        if (!_usageScrape.IsCompleted || (_lastUsageScrape is { } last && _time.GetElapsedTime(last) < _options.UsageScrapeInterval))
            return;
        _lastUsageScrape = _time.GetTimestamp();
        var targets = _replicas.Values
            .Where(r => r.Handle is not null && !r.Status.IsTerminal() && r.Status != ReplicaStatus.Pending)
            .Select(r => (r.Id, r.Handle!.EndpointUrl))
            .ToList();
        _usageScrape = RecordUsageAsync(targets, refreshTotals: true, _stopping.Token);
    }

    private async Task RecordUsageAsync(IReadOnlyList<(int ReplicaId, string Endpoint)> replicas, bool refreshTotals, CancellationToken cancellationToken)
    {
        try
        {
            var counters = await _scraper.ScrapeAsync(_name, replicas, _options.Auth.ReplicaKey, cancellationToken).ConfigureAwait(false);
            await _store.RecordTokenCountersAsync(counters, cancellationToken).ConfigureAwait(false);
            if (refreshTotals)
            {
                var report = await _store.CostAsync(_name, DateTimeOffset.UnixEpoch, cancellationToken).ConfigureAwait(false);
                _usage = [.. report.Tiers.Select(t => new TierUsage(t.Tier!, t.ReplicaHours, t.Dollars, t.GeneratedTokens, t.PromptTokens))];
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Log.UsageScrapeFailed(_logger, _name, e);
        }
    }

    /// <summary>Tells the endpoint what its /metrics should say of the service now.</summary>
    private void PublishState(ScalingDecision scaling)
    {
        var cheapest = _spec.Tiers.Count == 0 ? null : _spec.Tiers.MinBy(t => t.CostPerHour)!.Name;
        var live = _replicas.Values.Where(r => r.TerminatedAt is null).ToList();
        var ready = live.Where(r => r.Status == ReplicaStatus.Ready && r.Load.TtftP50 is not null).Select(r => r.Load.TtftP50!.Value.TotalSeconds).Order().ToList();
        _balancer.Publish(new ServiceState
        {
            Qps = scaling.Qps,
            TargetReplicas = scaling.TargetReplicas,
            SpilloverReplicas = live.Count(r => r.Status == ReplicaStatus.Ready && r.Record.Tier != cheapest),
            TtftP50Seconds = ready.Count == 0 ? null : ready[ready.Count / 2],
            Replicas = [.. live.GroupBy(r => (r.Record.Tier, Status: r.Status.ToSkyServeName())).Select(g => new ReplicaCount(g.Key.Tier, g.Key.Status, g.Count()))],
            CostPerHour = [.. _spec.Tiers.Select(t => new TierCost(t.Name, live.Where(r => r.Record.Tier == t.Name && r.Status.OccupiesCapacity()).Sum(r => r.Record.CostPerHour)))],
            ScaleEvents = [.. _scaleEvents],
            Usage = _usage,
        });
        _scaleEvents.Clear();
    }

    private static string ProbeDetail(ProbeResult probe) => probe.StatusCode switch
    {
        200 => $"; last probe answered 200 in {probe.Latency.TotalMilliseconds:0} ms" + (probe.Overloaded ? " (overloaded)" : ""),
        { } code => $"; last probe answered HTTP {code}",
        null => "; last probe got no response",
    };

    /// <summary>Records an event from outside the loop; a failure to record is logged, never thrown.</summary>
    private async Task RecordAsync(ServiceEvent serviceEvent)
    {
        try
        {
            await _store.AddEventAsync(serviceEvent, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ServiceStoreException or Microsoft.Data.Sqlite.SqliteException or ObjectDisposedException)
        {
            Log.EventNotRecorded(_logger, _name, serviceEvent.Kind, e.Message);
        }
    }

    private async Task FlushEventsAsync(CancellationToken cancellationToken)
    {
        foreach (var serviceEvent in _events)
            await _store.AddEventAsync(serviceEvent, cancellationToken).ConfigureAwait(false);
        _events.Clear();
    }

    /// <summary>A controller restarted on a FAILED service stays failed until the spec changes, with the last failure as its reason.</summary>
    private async Task RestoreFailedAsync(CancellationToken cancellationToken)
    {
        var last = (await _store.ListReplicasAsync(_name, includeTerminated: true, cancellationToken).ConfigureAwait(false))
            .Where(r => r.FailureReason is not null).MaxBy(r => r.ReplicaId);
        _guard.Restore(last is null ? "the service was FAILED before the controller restarted" : $"replica {last.ReplicaId}: {last.FailureReason}");
        _status = FailedStatus;
    }

    private bool HasProvider(TierSpec tier) => _providers.ContainsKey(SpecMapping.ProviderName(tier));

    // The room a provider found for a tier (an SSH pool's answering nodes): it changes as nodes fail and return.
    private TierCapacity? FoundCapacity(TierSpec tier) =>
        _providers.GetValueOrDefault(SpecMapping.ProviderName(tier)) is IProviderCapacity p ? p.KnownCapacity(tier, _latestSpec.Resources) : null;

    private string CapacitiesOf(ServiceSpec spec) =>
        string.Join(",", spec.Tiers.Select(t => FoundCapacity(t)?.Replicas.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"));

    /// <summary>
    /// A tier whose provider found more or less room (a node of its pool stopped answering, or came back) gets a planner
    /// with the new capacities, so replacements spill into the next tier and come back; the autoscaler keeps its state.
    /// </summary>
    private void RefreshCapacities()
    {
        var now = CapacitiesOf(_spec);
        if (now == _capacities)
            return;
        _capacities = now;
        _core.ReplacePlanner(SpecMapping.ToPlanner(_spec, HasProvider, _options.Machine, FoundCapacity));
        Log.CapacityChanged(_logger, _name, now);
    }

    private void Wake() => Volatile.Read(ref _wake).TrySetResult();

    private TimeSpan TickOf(ServiceSpec spec) =>
        _options.TickInterval ?? TimeSpan.FromSeconds(Math.Max(1, spec.Service.ReadinessProbe.EndpointProbeIntervalSeconds));

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task StopLoopAsync()
    {
        if (!_stopping.IsCancellationRequested)
            await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The loop ends by cancellation.
        }

        // It catches everything itself; awaited so it never reads the store or the HTTP client after they are gone.
        await _usageScrape.ConfigureAwait(false);
    }

    private void ApplyPendingUpdate()
    {
        if (Interlocked.Exchange(ref _pending, null) is not { } p)
            return;
        (_spec, _version, _rollout, _probePolicy) = (p.Spec, p.Version, p.Rollout, p.Probe);
        // A new version may hold the fix: failures of the old one no longer hold launches back.
        _guard.Reset(p.Spec.Service.FailurePolicy);
        _core.Update(p.Policy, p.Planner);
        // The balancer keeps its policy object (and its state) unless the new spec names another policy; timeouts and the
        // scale-from-zero wait apply to requests arriving from now on.
        _balancer.Reconfigure(p.Balancer);
    }

    private async Task<int> AdoptAllAsync(CancellationToken cancellationToken)
    {
        var adopted = 0;
        foreach (var record in await _store.ListReplicasAsync(_name, includeTerminated: false, cancellationToken).ConfigureAwait(false))
        {
            var r = new Tracked(record);
            _replicas[r.Id] = r;
            ReplicaStatusExtensions.TryParseSkyServeName(record.Status, out var stored);
            if (stored.IsTerminal())
            {
                r.Status = stored;
                continue;
            }
            if (record.Handle is null || !_providers.TryGetValue(record.Provider, out var provider))
            {
                // Recorded but never handed over (the controller died mid-launch) or a provider this daemon lacks.
                var why = record.Handle is null ? "no handle was recorded" : $"no provider '{record.Provider}'";
                Fail(r, ReplicaStatus.Failed, "not adopted after a controller restart: " + why);
                Log.NotAdopted(_logger, _name, r.Id, why);
                continue;
            }
            var handle = ReplicaHandle.FromJson(record.Handle);
            if (!await provider.AdoptAsync(handle, cancellationToken).ConfigureAwait(false))
            {
                Fail(r, ReplicaStatus.Failed, FailureReasons.Describe("exited while the controller was down", handle.LogPath));
                Log.NotAdopted(_logger, _name, r.Id, "the process is gone");
                continue;
            }
            adopted++;
            r.Handle = handle;
            r.Tracker = new ReplicaProbeTracker(_probePolicy, _time);
            r.Status = ReplicaStatus.Starting;
            if (stored == ReplicaStatus.Ready)
            {
                r.Tracker.AssumeReady();
                r.Status = ReplicaStatus.Ready;
            }
            if (stored == ReplicaStatus.ShuttingDown)
                BeginDrain(r, _stopping.Token);
        }
        await PersistAsync(cancellationToken).ConfigureAwait(false);
        return adopted;
    }

    private async Task ObserveAsync(Tracked r, CancellationToken cancellationToken)
    {
        var provider = _providers[r.Record.Provider];
        // Like a probe, a status call outlives the tick that made it: a provider waiting on a node whose link just died
        // must not hold every other replica's probes (and the balancer's view of them) until its own timeout.
        r.StatusCall ??= provider.GetStatusAsync(r.Handle!, _stopping.Token);
        if (!r.StatusCall.IsCompleted)
        {
            try
            {
                await r.StatusCall.WaitAsync(StatusWait, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // No verdict this tick; the probes below still decide readiness.
            }
        }
        ProviderReplicaStatus? state = null;
        if (r.StatusCall.IsCompleted)
        {
            var call = r.StatusCall;
            r.StatusCall = null;
            state = await call.ConfigureAwait(false);
        }
        switch (state?.State)
        {
            case ProviderReplicaState.Exited:
                var exit = state.ExitCode is { } code ? $"exited with code {code}" : state.Detail ?? "exited";
                Fail(r, ReplicaStatus.Failed, FailureReasons.Describe(exit, r.Handle!.LogPath));
                r.Probe = null;
                return;
            case ProviderReplicaState.Preempted:
                r.Tracker!.MarkPreempted();
                r.Status = ReplicaStatus.Preempted;
                r.Probe = null;
                return;
            case ProviderReplicaState.Unknown:
                // The provider cannot see the replica (its node's sshd is dead, its API does not answer). It may still
                // serve, so probes go on deciding readiness; but a replica no one can stop, update or read logs from is
                // failed once that lasts as long as failing probes may, and replaced where the provider can act.
                r.UnknownSince ??= _time.GetTimestamp();
                if (_time.GetElapsedTime(r.UnknownSince.Value) >= _probePolicy.ConsecutiveFailureTimeout)
                {
                    Fail(r, ReplicaStatus.Failed, $"its provider could not reach it for {_probePolicy.ConsecutiveFailureTimeout.TotalSeconds:0} s: {state.Detail}");
                    r.Probe = null;
                    return;
                }
                break;
            case null:
                // Still asking.
                break;
            default:
                r.UnknownSince = null;
                break;
        }
        // A probe outlives the tick that sent it: a replica that hangs (SIGSTOP, a stuck event loop) must not hold the
        // whole loop for timeout_seconds, so the tick waits only as long as a passing probe may take.
        if (r.Probe is null)
        {
            r.Probe = _prober.ProbeAsync(r.Handle!.EndpointUrl, _spec.Service.ReadinessProbe, _options.Auth.ReplicaKey, _stopping.Token);
            r.ProbeStarted = _time.GetTimestamp();
        }
        var left = _probePolicy.LatencyThreshold - _time.GetElapsedTime(r.ProbeStarted);
        if (!r.Probe.IsCompleted && left > TimeSpan.Zero)
        {
            try
            {
                await r.Probe.WaitAsync(left, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Still unanswered: not ready this tick; the probe keeps running toward its own timeout.
            }
        }
        if (!r.Probe.IsCompleted)
        {
            r.Status = r.Tracker!.ObserveOverdue();
            return;
        }
        var finished = r.Probe;
        r.Probe = null;
        var (probe, load) = finished.IsCompletedSuccessfully ? finished.Result : (ProbeResult.NoResponse(_time.GetElapsedTime(r.ProbeStarted)), default);
        var observed = r.Tracker!.Observe(probe);
        r.Load = load;
        if (observed == ReplicaStatus.FailedInitialDelay && r.Status != observed)
        {
            Fail(r, observed, FailureReasons.Describe(
                $"not ready within readiness_probe.initial_delay_seconds ({_spec.Service.ReadinessProbe.InitialDelaySeconds} s) on {_spec.Service.ReadinessProbe.Path}" + ProbeDetail(probe),
                r.Handle!.LogPath));
        }
        else if (observed == ReplicaStatus.FailedProbing && r.Status != observed)
        {
            Fail(r, observed, FailureReasons.Describe(
                $"failed readiness probes on {_spec.Service.ReadinessProbe.Path} for {_spec.Service.ReadinessProbe.ConsecutiveFailureThresholdTimeoutSeconds} s" + ProbeDetail(probe),
                r.Handle!.LogPath));
        }
        else
        {
            r.Status = observed;
        }
        if (r.Status == ReplicaStatus.Ready)
        {
            r.ReadyAt ??= _time.GetUtcNow();
            _guard.RecordReady();
        }
    }

    private async Task LaunchAsync(string tierName, CancellationToken cancellationToken)
    {
        var tier = _spec.Tiers.First(t => t.Name == tierName);
        var providerName = SpecMapping.ProviderName(tier);
        var record = await _store.AddReplicaAsync(new NewReplica
        {
            Service = _name,
            Version = _version,
            Tier = tier.Name,
            Provider = providerName,
            Status = ReplicaStatus.Pending.ToSkyServeName(),
            CostPerHour = tier.CostPerHour,
        }, cancellationToken).ConfigureAwait(false);
        var r = new Tracked(record) { Status = ReplicaStatus.Provisioning };
        _replicas[r.Id] = r;
        Log.Launching(_logger, _name, r.Id, tier.Name);
        try
        {
            if (!_providers.TryGetValue(providerName, out var provider))
                throw new NotSupportedException($"no '{providerName}' provider is configured in this daemon");
            r.Handle = await provider.LaunchAsync(ReplicaLaunches.Create(_name, r.Id, _version, _spec, tier, _options, _pki), cancellationToken).ConfigureAwait(false);
            r.Tracker = new ReplicaProbeTracker(_probePolicy, _time);
            r.Status = ReplicaStatus.Starting;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var shortage = e is CapacityShortageException;
            Fail(r, ReplicaStatus.FailedProvision, $"{(shortage ? "no capacity" : "could not launch")} on tier {tier.Name}: {e.Message}", crash: !shortage);
            Log.LaunchFailed(_logger, _name, r.Id, tier.Name, e.Message);
        }
        // The handle is written at once: a crash from here on leaves a record the next controller can adopt.
        await PersistAsync(cancellationToken).ConfigureAwait(false);
    }

    private void BeginDrain(Tracked r, CancellationToken cancellationToken)
    {
        Log.Draining(_logger, _name, r.Id);
        r.Status = ReplicaStatus.ShuttingDown;
        r.Draining = DrainAsync(r.Id, _providers[r.Record.Provider], r.Handle!, cancellationToken);
    }

    private async Task DrainAsync(int replicaId, IReplicaProvider provider, ReplicaHandle handle, CancellationToken cancellationToken)
    {
        // Not ready in the balancer already (pushed with the tick); wait for what it still carries, within the bound.
        var id = replicaId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var deadline = _time.GetUtcNow() + _options.DrainTimeout;
        while (_balancer.GetInFlight().GetValueOrDefault(id) > 0 && _time.GetUtcNow() < deadline)
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
        // Its counters are final now that nothing is sent to it: the last read, so its tokens are all counted in `wf cost`.
        await RecordUsageAsync([(replicaId, handle.EndpointUrl)], refreshTotals: false, CancellationToken.None).ConfigureAwait(false);
        await provider.StopAsync(handle, TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
    }

    private async Task AwaitDrainAsync(Tracked r, Task drain)
    {
        try
        {
            await drain.ConfigureAwait(false);
            r.TerminatedAt = _time.GetUtcNow();
            _pki?.Forget(r.Id);
        }
        catch (Exception e)
        {
            Log.StopFailed(_logger, _name, r.Id, e);
            r.Status = ReplicaStatus.FailedCleanup;
        }
        r.Draining = null;
    }

    private async Task CleanUpAsync(Tracked r, CancellationToken cancellationToken)
    {
        try
        {
            if (r.Handle is not null && _providers.TryGetValue(r.Record.Provider, out var provider))
                await provider.StopAsync(r.Handle, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            r.TerminatedAt = _time.GetUtcNow();
            _pki?.Forget(r.Id);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.StopFailed(_logger, _name, r.Id, e);
            r.Status = ReplicaStatus.FailedCleanup;
        }
    }

    private void PushToBalancer()
    {
        var endpoints = new List<ReplicaEndpoint>(_replicas.Count);
        var anyReady = false;
        foreach (var r in _replicas.Values)
        {
            if (r.Handle is null || r.TerminatedAt is not null)
                continue;
            var ready = r.Status == ReplicaStatus.Ready;
            anyReady |= ready;
            // A failed replica's unanswered requests are retried elsewhere; a draining one finishes what it has.
            endpoints.Add(new ReplicaEndpoint(r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), new Uri(r.Handle.EndpointUrl), ready, Lost: r.Status.IsTerminal()));
        }
        _balancer.UpdateReplicas(endpoints);
        lock (_coldGate)
        {
            _balancer.ColdStart = _core.Autoscaler.TargetReplicas == 0;
            _balancer.ScalingUp = !anyReady && (_core.Autoscaler.TargetReplicas > 0 || _coldRequests > 0);
        }
    }

    /// <summary>Writes every replica whose state moved since it was last stored, and forgets the terminated ones.</summary>
    private async Task PersistAsync(CancellationToken cancellationToken)
    {
        var changed = new List<ReplicaRecord>();
        foreach (var r in _replicas.Values)
        {
            var next = r.Record with
            {
                Status = r.Status.ToSkyServeName(),
                Handle = r.Handle?.ToJson() ?? r.Record.Handle,
                EndpointUrl = r.Handle?.EndpointUrl ?? r.Record.EndpointUrl,
                ReadyAt = r.ReadyAt ?? r.Record.ReadyAt,
                TerminatedAt = r.TerminatedAt,
                FailureReason = r.FailureReason ?? r.Record.FailureReason,
            };
            if (next != r.Record)
            {
                if (next.Status != r.Record.Status)
                    Log.StatusChanged(_logger, _name, r.Id, r.Record.Status, next.Status);
                changed.Add(next);
            }
        }
        if (changed.Count > 0)
        {
            var stored = await _store.UpdateReplicasAsync(changed, null, cancellationToken).ConfigureAwait(false);
            foreach (var record in stored)
                _replicas[record.ReplicaId].Record = record;
        }
        foreach (var r in _replicas.Values.Where(r => r.TerminatedAt is not null).ToList())
            _replicas.Remove(r.Id);
    }

    private async Task SetServiceStatusAsync(string status, CancellationToken cancellationToken)
    {
        var record = await _store.GetServiceAsync(_name, cancellationToken).ConfigureAwait(false);
        if (record is not null && (record.Status != status || record.Port != _balancer.BaseUrl.Port))
            await _store.UpdateServiceAsync(_name, status, _balancer.BaseUrl.ToString(), _balancer.BaseUrl.Port, cancellationToken).ConfigureAwait(false);
        _status = status;
    }

    private void PublishSnapshot()
    {
        var replicas = _replicas.Values.OrderBy(r => r.Id).Select(r => new ReplicaSnapshot(
            r.Id, r.Record.Tier, r.Status, r.Handle?.EndpointUrl, r.Record.CostPerHour, r.Handle?.Pid, r.Record.Version, r.Record.LaunchedAt,
            r.FailureReason ?? r.Record.FailureReason, r.Load.TtftP50)).ToList();
        Volatile.Write(ref _snapshot, new ServiceSnapshot(
            _name, _version, _status, _balancer.BaseUrl, _core.Autoscaler.TargetReplicas, _core.Autoscaler.CurrentQps(), replicas, _ticks,
            _guard.GaveUpReason, _guard.LastFailure, _guard.NextLaunchAt, _guard.LastFailedReplica));
    }

    private static async Task<IServiceEndpoint> StartBalancerAsync(
        string name, ServiceSpec spec, ServiceControllerOptions options, int? storedPort, Tls.ReplicaClientTlsFiles? replicaTls, TimeProvider time, ILoggerFactory? loggers, CancellationToken cancellationToken)
    {
        var port = options.Port != 0 ? options.Port : storedPort ?? 0;
        var wanted = SpecMapping.ToBalancerOptions(spec, name, options.ListenAddress, port, replicaTls);
        // A port the spec or the daemon names is the one clients and firewalls expect: no falling back to another.
        var portChosenHere = options.Port == 0 && spec.Service.LoadBalancer.Port is null;
        if (options.EndpointFactory is { } factory)
        {
            // The endpoint runs in a process of its own (adopted if it still runs): it falls back to a free port itself.
            return await factory(name, wanted, portChosenHere, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            return await ServiceLoadBalancer.StartAsync(wanted, options.Auth, time, loggers, null, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException) when (port != 0 && portChosenHere)
        {
            // The endpoint's previous port was taken while the daemon was down: a new one beats no service.
            return await ServiceLoadBalancer.StartAsync(wanted with { Port = 0 }, options.Auth, time, loggers, null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The endpoint's address and port are bound once: a spec that moves them is refused before it is stored.</summary>
    private static void CheckEndpointUnchanged(ServiceSpec current, ServiceSpec next)
    {
        var (was, now) = (current.Service.LoadBalancer, next.Service.LoadBalancer);
        if (was.Host != now.Host)
            throw new ServiceSpecException("service.load_balancer.host",
                $"cannot change while the service runs ({was.Host ?? "default"} -> {now.Host ?? "default"}); run wf down and wf up to move the endpoint");
        if (was.Port != now.Port)
            throw new ServiceSpecException("service.load_balancer.port",
                $"cannot change while the service runs ({was.Port?.ToString(CultureInfo.InvariantCulture) ?? "chosen"} -> {now.Port?.ToString(CultureInfo.InvariantCulture) ?? "chosen"}); run wf down and wf up to move the endpoint");
    }

    private static async Task<int> FindRolloutVersionAsync(ServiceStore store, string name, CancellationToken cancellationToken)
    {
        var versions = await store.ListVersionsAsync(name, cancellationToken).ConfigureAwait(false);
        var rollout = versions.Count > 0 ? versions[0].Version : 1;
        for (var i = 1; i < versions.Count; i++)
        {
            try
            {
                if (SpecMapping.NeedsNewReplicas(ServiceSpecParser.Parse(versions[i - 1].SpecYaml), ServiceSpecParser.Parse(versions[i].SpecYaml)))
                    rollout = versions[i].Version;
            }
            catch (ServiceSpecException)
            {
                rollout = versions[i].Version;
            }
        }
        return rollout;
    }

    private sealed record Pending(
        ServiceSpec Spec, int Version, int Rollout, AutoscalerPolicy Policy, IPlacementPlanner Planner, ProbePolicy Probe, ServiceLoadBalancerOptions Balancer);

    /// <summary>The loop's view of one replica; only the loop touches it.</summary>
    private sealed class Tracked(ReplicaRecord record)
    {
        public int Id { get; } = record.ReplicaId;

        public ReplicaRecord Record { get; set; } = record;

        public ReplicaHandle? Handle { get; set; } = record.Handle is null ? null : ReplicaHandle.FromJson(record.Handle);

        public ReplicaProbeTracker? Tracker { get; set; }

        public ReplicaStatus Status { get; set; } = ReplicaStatus.Pending;

        public ReplicaLoad Load { get; set; }

        public DateTimeOffset? ReadyAt { get; set; } = record.ReadyAt;

        public DateTimeOffset? TerminatedAt { get; set; }

        /// <summary>Why it failed, set once when it enters a failed state.</summary>
        public string? FailureReason { get; set; }

        public Task? Draining { get; set; }

        /// <summary>The readiness probe in flight, possibly sent by an earlier tick.</summary>
        public Task<(ProbeResult Probe, ReplicaLoad Load)>? Probe { get; set; }

        public long ProbeStarted { get; set; }

        /// <summary>The provider status call in flight, kept across ticks while it is unanswered.</summary>
        public Task<ProviderReplicaStatus>? StatusCall { get; set; }

        /// <summary>When the provider first could not see the replica (a timestamp of the clock), null while it can.</summary>
        public long? UnknownSince { get; set; }
    }
}
