using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using WrinkleFree.Providers.Kubernetes.Pods;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Providers.Kubernetes;

/// <summary>
/// Replicas as pods (<c>provider: kubernetes</c>): one pod per replica, named from the service and replica id so a launch
/// is create-or-get, with its files (TLS, API key) in a Secret the pod owns. Status comes from one list + watch per
/// namespace. Outside the cluster the balancer reaches a pod through a loopback port forwarded over the API; inside, on
/// the pod's DNS name under a headless Service.
/// </summary>
public sealed partial class KubernetesProvider : IReplicaProvider, IProviderCapacity, IAsyncDisposable
{
    // What `wf replica` reads as a file path: sent to the pod in its Secret, never as a path on the daemon's machine.
    private static readonly string[] FileVariables = ["WF_TLS_CERT", "WF_TLS_KEY", "WF_TLS_CLIENT_CA", "WF_API_KEY_FILE"];
    private static readonly string[] HostOnlyVariables = ["PATH", "WF_HOME"];
    private static readonly TimeSpan SyncWait = TimeSpan.FromSeconds(5);

    private readonly ReplicaProviderContext _context;
    private readonly KubernetesProviderOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<string, ClusterConnection> _connections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Service, int Replica), Launched> _launched = new();
    private readonly ConcurrentDictionary<string, byte> _deletedByUs = new(StringComparer.Ordinal);

    // Pods a stop saw gone from the API itself: the watch's DELETED event may still be on its way, and the status must
    // not say Running in between.
    private readonly ConcurrentDictionary<string, byte> _goneAfterStop = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TierCapacity> _capacity = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Context, string Namespace, string Name), byte> _headlessMade = new();
    private int _disposed;

    /// <summary>A provider for one daemon.</summary>
    public KubernetesProvider(ReplicaProviderContext context, KubernetesProviderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _options = options ?? new KubernetesProviderOptions();
        _logger = context.Loggers.CreateLogger("WrinkleFree.Providers.Kubernetes");
    }

    /// <inheritdoc />
    public string Name => ProviderNames.Kubernetes;

    /// <inheritdoc />
    public async Task<ReplicaHandle> LaunchAsync(ReplicaLaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        if (_launched.TryGetValue((request.Service, request.ReplicaId), out var known))
            return known.Handle;
        var settings = KubernetesTierSettings.Parse(request.TierSettings, "settings");
        var connection = Connect(settings.Context, "settings.context");
        var ns = settings.Namespace;
        var name = PodNames.Pod(request.Service, request.ReplicaId);
        var headless = connection.PortForward ? null : PodNames.HeadlessService(request.Service);
        var host = headless is null ? "127.0.0.1" : $"{name}.{headless}.{ns}.svc";
        var tls = request.Tls?.Issue(request.ReplicaId, host);
        var envs = new Dictionary<string, string>(request.Envs, StringComparer.Ordinal)
        {
            ["PORT"] = _options.ContainerPort.ToString(CultureInfo.InvariantCulture),
            ["HOST"] = "0.0.0.0",
        };
        // The daemon's PATH (its wf shim) and WF_HOME name folders on its own machine: in the pod the image's hold.
        foreach (var local in HostOnlyVariables)
            envs.Remove(local);
        if (tls is not null)
        {
            envs["WF_TLS_CERT"] = tls.CertFile;
            envs["WF_TLS_KEY"] = tls.KeyFile;
            envs["WF_TLS_CLIENT_CA"] = tls.ClientCaFile;
        }

        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var variable in FileVariables)
        {
            if (envs.GetValueOrDefault(variable) is { } path && Path.IsPathRooted(path) && File.Exists(path))
                files[variable] = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }

        var pod = ReplicaPodBuilder.Build(new ReplicaPodInput
        {
            Request = request,
            Settings = settings,
            ContainerPort = _options.ContainerPort,
            DrainTimeout = _options.DrainTimeout,
            Envs = envs,
            SecretFileVariables = [.. files.Keys],
            Https = tls is not null,
            Subdomain = headless,
        });
        if (headless is not null && !_headlessMade.ContainsKey((settings.Context ?? "", ns, headless)))
        {
            await EnsureHeadlessServiceAsync(connection, request.Service, headless, ns, cancellationToken).ConfigureAwait(false);
            _headlessMade[(settings.Context ?? "", ns, headless)] = 0;
        }
        var created = await CreateOrGetAsync(connection, pod, request, cancellationToken).ConfigureAwait(false);
        if (files.Count > 0)
        {
            try
            {
                await CreateSecretAsync(connection, ReplicaPodBuilder.BuildSecret(created, files), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Without its Secret the pod would wait in ContainerCreating for good, and no handle would ever stop it.
                await DeleteQuietlyAsync(connection, created).ConfigureAwait(false);
                throw;
            }
        }

        var scheme = tls is null ? "http" : "https";
        PodPortForward? forward = null;
        string endpoint;
        if (connection.PortForward)
        {
            forward = PodPortForward.Start(connection.Client, name, ns, _options.ContainerPort, 0, _logger);
            endpoint = $"{scheme}://127.0.0.1:{forward.LocalPort.ToString(CultureInfo.InvariantCulture)}";
        }
        else
        {
            endpoint = $"{scheme}://{host}:{_options.ContainerPort.ToString(CultureInfo.InvariantCulture)}";
        }

        var handle = new ReplicaHandle
        {
            Provider = Name,
            Service = request.Service,
            ReplicaId = request.ReplicaId,
            EndpointUrl = endpoint,
            PodName = name,
            PodUid = created.Metadata.Uid,
            PodNamespace = ns,
            KubeContext = settings.Context,
        };
        if (!_launched.TryAdd((request.Service, request.ReplicaId), new Launched(handle, forward)))
        {
            // A concurrent launch of the same replica got there first: one pod, one forward.
            if (forward is not null)
                await forward.DisposeAsync().ConfigureAwait(false);
            return _launched[(request.Service, request.ReplicaId)].Handle;
        }

        // The watch starts now, so the first status is already in sync.
        connection.Watch(ns);
        Log.Launched(_logger, request.Service, request.ReplicaId, name, ns, endpoint);
        return handle;
    }

    /// <inheritdoc />
    public async Task<ProviderReplicaStatus> GetStatusAsync(ReplicaHandle handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var (connection, name, ns) = Locate(handle);
        if (handle.PodUid is { } stopped && _goneAfterStop.ContainsKey(stopped))
            return ProviderReplicaStatus.Exited(null, $"pod {name} was deleted");
        var watch = connection.Watch(ns);
        if (!await watch.WaitSyncedAsync(SyncWait, cancellationToken).ConfigureAwait(false))
            return ProviderReplicaStatus.Unknown($"cannot list pods in namespace {ns} ({KubernetesApiErrors.ContextName(connection.Context)}): {watch.LastError ?? "no answer"}");
        var pod = watch.Get(name);
        if (pod is null || pod.Metadata.Uid != handle.PodUid)
        {
            // Not in the watch's view: created a moment ago (the event is on its way), or deleted. Ask once.
            pod = handle.PodUid is { } uid && watch.WasDeleted(uid) ? null : await ReadPodAsync(connection, name, ns, cancellationToken).ConfigureAwait(false);
            if (pod is null || pod.Metadata.Uid != handle.PodUid)
            {
                return handle.PodUid is { } mine && _deletedByUs.ContainsKey(mine)
                    ? ProviderReplicaStatus.Exited(null, $"pod {name} was deleted")
                    : ProviderReplicaStatus.Preempted($"pod {name} was deleted, not by wf{(pod is null ? "" : " (another pod has its name now)")}");
            }
        }

        return PodStates.Of(pod, handle.PodUid is { } own && _deletedByUs.ContainsKey(own));
    }

    /// <inheritdoc />
    public async Task StopAsync(ReplicaHandle handle, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var (connection, name, ns) = Locate(handle);
        if (handle.PodUid is { } uid)
            _deletedByUs[uid] = 0;
        // The pod's own grace covers its preStop pause and the drain; a replica that outlives it is killed by the kubelet.
        var grace = (long)Math.Ceiling(drainTimeout.TotalSeconds);
        try
        {
            await connection.Client.CoreV1.DeleteNamespacedPodAsync(
                name, ns, new V1DeleteOptions { GracePeriodSeconds = grace, Preconditions = handle.PodUid is null ? null : new V1Preconditions { Uid = handle.PodUid } },
                cancellationToken: cancellationToken).ConfigureAwait(false);
            Log.Deleted(_logger, name, ns, grace);
        }
        catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.NotFound) || KubernetesApiErrors.Is(e, HttpStatusCode.Conflict))
        {
            // Gone already, or the name now belongs to another pod (the UID precondition failed): nothing of ours to stop.
        }
        catch (Exception e) when (KubernetesApiErrors.StatusOf(e) is not null)
        {
            throw KubernetesApiErrors.Describe(e, "delete", "pods", ns, connection.Context);
        }

        var watch = connection.Watch(ns);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(drainTimeout + TimeSpan.FromSeconds(30));
        while (true)
        {
            var changed = watch.Changed;
            var pod = watch.Get(name);
            if (pod is null || pod.Metadata.Uid != handle.PodUid)
            {
                if (await ReadPodAsync(connection, name, ns, bound.Token).ConfigureAwait(false) is not { } still || still.Metadata.Uid != handle.PodUid)
                {
                    if (handle.PodUid is { } gone)
                        _goneAfterStop[gone] = 0;
                    break;
                }
            }

            try
            {
                await changed.WaitAsync(TimeSpan.FromSeconds(1), _context.Time, bound.Token).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Look again: a missed event must not leave the stop waiting.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"kubernetes: pod {name} in namespace {ns} was still there {drainTimeout.TotalSeconds + 30:0} s after its deletion");
            }
        }

        if (_launched.TryRemove((handle.Service, handle.ReplicaId), out var launched) && launched.Forward is not null)
            await launched.Forward.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> AdoptAsync(ReplicaHandle handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (handle.PodName is null || handle.PodUid is null || handle.PodNamespace is null)
            return false;
        var (connection, name, ns) = Locate(handle);
        var pod = await ReadPodAsync(connection, name, ns, cancellationToken).ConfigureAwait(false);
        var why = pod switch
        {
            null => "it is gone",
            _ when pod.Metadata.Uid != handle.PodUid => $"the pod of that name is another one (uid {pod.Metadata.Uid}, not {handle.PodUid})",
            _ when PodNames.LabelOf(pod, PodNames.ServiceLabel) != handle.Service
                || PodNames.LabelOf(pod, PodNames.ReplicaLabel) != handle.ReplicaId.ToString(CultureInfo.InvariantCulture) => "its labels name another replica",
            _ when pod.Metadata.DeletionTimestamp is not null => "it is being deleted",
            _ when pod.Status?.Phase is "Failed" or "Succeeded" => $"it ended ({pod.Status.Phase})",
            _ => null,
        };
        if (why is not null)
        {
            Log.NotAdopted(_logger, name, ns, why);
            return false;
        }

        PodPortForward? forward = null;
        if (connection.PortForward)
        {
            try
            {
                // The stored endpoint names the loopback port: the balancer keeps reaching the replica there.
                forward = PodPortForward.Start(connection.Client, name, ns, _options.ContainerPort, new Uri(handle.EndpointUrl).Port, _logger);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                Log.NotAdopted(_logger, name, ns, $"its loopback port {new Uri(handle.EndpointUrl).Port} is taken: {e.Message}");
                return false;
            }
        }

        if (!_launched.TryAdd((handle.Service, handle.ReplicaId), new Launched(handle, forward)) && forward is not null)
            await forward.DisposeAsync().ConfigureAwait(false);
        connection.Watch(ns);
        Log.Adopted(_logger, name, handle.PodUid, ns);
        return true;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        foreach (var launched in _launched.Values)
        {
            if (launched.Forward is not null)
                await launched.Forward.DisposeAsync().ConfigureAwait(false);
        }

        ClusterConnection[] connections;
        lock (_connections)
            connections = [.. _connections.Values];
        foreach (var connection in connections)
            await connection.DisposeAsync().ConfigureAwait(false);
    }

    private ClusterConnection Connect(string? context, string contextKey)
    {
        lock (_connections)
        {
            if (!_connections.TryGetValue(context ?? "", out var connection))
                _connections[context ?? ""] = connection = ClusterConnection.Open(context, contextKey, _options, _context.Time, _logger);
            return connection;
        }
    }

    private (ClusterConnection Connection, string Name, string Namespace) Locate(ReplicaHandle handle)
    {
        if (handle.PodName is not { } name || handle.PodNamespace is not { } ns)
            throw new ArgumentException($"replica {handle.ReplicaId} of {handle.Service}: the handle names no pod", nameof(handle));
        return (Connect(handle.KubeContext, "settings.context"), name, ns);
    }

    private static async Task<V1Pod?> ReadPodAsync(ClusterConnection connection, string name, string ns, CancellationToken cancellationToken)
    {
        try
        {
            return await connection.Client.CoreV1.ReadNamespacedPodAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.NotFound))
        {
            return null;
        }
        catch (Exception e) when (KubernetesApiErrors.StatusOf(e) is not null)
        {
            throw KubernetesApiErrors.Describe(e, "get", "pods", ns, connection.Context);
        }
    }

    private async Task<V1Pod> CreateOrGetAsync(ClusterConnection connection, V1Pod pod, ReplicaLaunchRequest request, CancellationToken cancellationToken)
    {
        var name = pod.Metadata.Name;
        var ns = pod.Metadata.NamespaceProperty;
        try
        {
            return await connection.Client.CoreV1.CreateNamespacedPodAsync(pod, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.Conflict))
        {
            // Launched before (a retry after a lost answer, or a controller that died mid-launch): that pod is this replica.
        }
        catch (Exception e) when (KubernetesApiErrors.StatusOf(e) is not null)
        {
            throw KubernetesApiErrors.Describe(e, "create", "pods", ns, connection.Context);
        }

        var existing = await ReadPodAsync(connection, name, ns, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"kubernetes: pod {name} in namespace {ns} existed a moment ago and is gone; launch again");
        if (PodNames.LabelOf(existing, PodNames.ServiceLabel) != request.Service
            || existing.Metadata.DeletionTimestamp is not null)
        {
            throw new InvalidOperationException(
                $"kubernetes: pod {name} in namespace {ns} exists but is not replica {request.ReplicaId} of {request.Service}{(existing.Metadata.DeletionTimestamp is null ? "" : " (it is being deleted)")}; delete it or wait for it to go");
        }

        return existing;
    }

    private async Task DeleteQuietlyAsync(ClusterConnection connection, V1Pod pod)
    {
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await connection.Client.CoreV1.DeleteNamespacedPodAsync(
                pod.Metadata.Name, pod.Metadata.NamespaceProperty, new V1DeleteOptions { GracePeriodSeconds = 0, Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } },
                cancellationToken: bound.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.CleanupFailed(_logger, pod.Metadata.Name, pod.Metadata.NamespaceProperty, KubernetesApiErrors.MessageOf(e));
        }
    }

    private static async Task CreateSecretAsync(ClusterConnection connection, V1Secret secret, CancellationToken cancellationToken)
    {
        try
        {
            await connection.Client.CoreV1.CreateNamespacedSecretAsync(secret, secret.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.Conflict))
        {
            // Made by the launch that made the pod: owned by that very pod, so its files are this replica's.
        }
        catch (Exception e) when (KubernetesApiErrors.StatusOf(e) is not null)
        {
            throw KubernetesApiErrors.Describe(e, "create", "secrets", secret.Metadata.NamespaceProperty, connection.Context);
        }
    }

    private static async Task EnsureHeadlessServiceAsync(ClusterConnection connection, string service, string name, string ns, CancellationToken cancellationToken)
    {
        var headless = new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = new Dictionary<string, string> { [PodNames.ServiceLabel] = service } },
            Spec = new V1ServiceSpec
            {
                ClusterIP = "None",
                Selector = new Dictionary<string, string> { [PodNames.ServiceLabel] = service },
                // Names resolve as soon as a pod has an address, ready or not: the controller probes readiness itself.
                PublishNotReadyAddresses = true,
            },
        };
        try
        {
            await connection.Client.CoreV1.CreateNamespacedServiceAsync(headless, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.Conflict))
        {
            // There already: one per service, shared by its pods.
        }
        catch (Exception e) when (KubernetesApiErrors.StatusOf(e) is not null)
        {
            throw KubernetesApiErrors.Describe(e, "create", "services", ns, connection.Context);
        }
    }

    private sealed record Launched(ReplicaHandle Handle, PodPortForward? Forward);
}
