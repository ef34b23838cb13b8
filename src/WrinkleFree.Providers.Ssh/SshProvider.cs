using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Ssh;

/// <summary>
/// Replicas on the nodes of an SSH node pool (<c>provider: ssh</c>, <c>settings: {pool: NAME}</c>): each replica is a
/// systemd unit or a supervised process on a node (<see cref="NodeRuntime"/>), listening on the node's address, placed on
/// the answering node with the most room. A node that stops answering reports its replicas Unknown (the prober then
/// finds them not ready, and the controller replaces them); a stop asked for while it is away is kept and carried out
/// when it answers again, so a returning node never serves a replica twice.
/// </summary>
public sealed partial class SshProvider : IReplicaProvider, IProviderCapacity, IAsyncDisposable
{
    /// <summary>The tier settings this provider reads.</summary>
    /// <remarks>
    /// <c>private_network: true</c> says the balancer runs inside the nodes' private network, so replicas behind a jump
    /// host are reached on their own addresses; otherwise through a loopback port forwarded over SSH.
    /// </remarks>
    public static readonly IReadOnlyList<string> SettingKeys = ["pool", "private_network"];

    // As the node monitor's liveness check: slow for a busy node, instant for a dead one.
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(10);

    private readonly ReplicaProviderContext _context;
    private readonly ISshConnector _connector;
    private readonly SshProviderOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, NodeSlot> _nodes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Service, int Replica), Placed> _placed = new();
    private readonly PendingStops _pendingStops;
    private readonly SemaphoreSlim _placing = new(1, 1);
    private readonly FileHashes _hashes = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task? _monitor;
    private int _disposed;

    /// <summary>A provider for one daemon, reaching nodes through <paramref name="connector"/>.</summary>
    public SshProvider(ReplicaProviderContext context, ISshConnector connector, SshProviderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(connector);
        _context = context;
        _connector = connector;
        _options = options ?? new SshProviderOptions();
        _logger = context.Loggers.CreateLogger("WrinkleFree.Providers.Ssh");
        _pendingStops = new PendingStops(Path.Combine(context.Home, "ssh", "pending-stops.json"));
    }

    /// <inheritdoc />
    public string Name => ProviderNames.Ssh;

    /// <inheritdoc />
    public async Task<ReplicaHandle> LaunchAsync(ReplicaLaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        if (_placed.TryGetValue((request.Service, request.ReplicaId), out var existing))
            return existing.Handle;

        var pool = LoadPool(PoolOf(request.TierSettings, "settings.pool"));
        EnsureMonitor();
        await _placing.WaitAsync(cancellationToken).ConfigureAwait(false);
        NodeSlot slot;
        int port;
        try
        {
            (slot, port) = await ChooseNodeAsync(pool, request, cancellationToken).ConfigureAwait(false);
            // Held until started: a second launch in the same tick sees this one's port and slot taken.
            _placed[(request.Service, request.ReplicaId)] = new Placed(slot.Key, new ReplicaHandle
            {
                Provider = Name, Service = request.Service, ReplicaId = request.ReplicaId, EndpointUrl = "", Host = slot.Node.Host, Pool = pool.Name,
            }, null, port);
        }
        finally
        {
            _placing.Release();
        }

        try
        {
            return await StartOnAsync(slot, pool, request, port, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _placed.TryRemove((request.Service, request.ReplicaId), out _);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<ProviderReplicaStatus> GetStatusAsync(ReplicaHandle handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var slot = SlotOf(handle);
        if (slot is { IsUp: false, NeverTried: true })
            await slot.TryConnectAsync(_connector, cancellationToken).ConfigureAwait(false);
        if (slot is not { IsUp: true, Session: { IsConnected: true } session, Facts: { } facts })
            return ProviderReplicaStatus.Unknown($"node {slot?.Node.Name ?? handle.Host} does not answer{(slot?.LastError is { } e ? ": " + e : "")}");
        // The controller asks every tick: a node whose link just died must not hold it for a whole command timeout.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(StatusTimeout);
        try
        {
            return await NodeRuntime.For(facts, _context.Time).StatusAsync(session, ToNodeReplica(handle, slot), bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            slot.MarkDown($"no answer to a status check within {StatusTimeout.TotalSeconds:0} s");
            return ProviderReplicaStatus.Unknown($"node {slot.Node.Name} does not answer: {slot.LastError}");
        }
        catch (Exception e) when (e is SshNodeException or TimeoutException or IOException || IsSshFailure(e))
        {
            slot.MarkDown(NodeSlot.Describe(e));
            return ProviderReplicaStatus.Unknown($"node {slot.Node.Name} does not answer: {e.Message}");
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(ReplicaHandle handle, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        _placed.TryRemove((handle.Service, handle.ReplicaId), out _);
        var slot = SlotOf(handle);
        if (slot is null)
            return;
        if (slot.Session is { IsConnected: true } session && slot.Facts is { } facts)
        {
            try
            {
                await NodeRuntime.For(facts, _context.Time).StopAsync(session, handle.Service, handle.ReplicaId, drainTimeout, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is SshNodeException or TimeoutException or IOException || IsSshFailure(e))
            {
                slot.MarkDown(NodeSlot.Describe(e));
            }
        }

        // The node is away: the replica is out of service already (not ready, not routed); stop it when the node answers.
        _pendingStops.Add(new PendingStop(slot.Key, handle.Service, handle.ReplicaId));
        Log.StopDeferred(_logger, handle.Service, handle.ReplicaId, slot.Node.Name);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> GetLogsAsync(ReplicaHandle handle, int? tail, bool follow, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var slot = SlotOf(handle) ?? throw new InvalidOperationException($"replica {handle.ReplicaId} of {handle.Service}: node {handle.Host} is not in pool {handle.Pool} any more");
        var session = await slot.ConnectAsync(_connector, cancellationToken).ConfigureAwait(false);
        await foreach (var line in NodeRuntime.For(slot.Facts!, _context.Time).LogsAsync(session, handle.Service, handle.ReplicaId, tail, follow, cancellationToken).ConfigureAwait(false))
            yield return line;
    }

    /// <inheritdoc />
    public async Task<bool> AdoptAsync(ReplicaHandle handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        EnsureMonitor();
        var slot = SlotOf(handle);
        if (slot is null)
            return false;
        try
        {
            var session = await slot.ConnectAsync(_connector, cancellationToken).ConfigureAwait(false);
            if (!await NodeRuntime.For(slot.Facts!, _context.Time).AdoptAsync(session, ToNodeReplica(handle, slot), cancellationToken).ConfigureAwait(false))
                return false;
        }
        catch (Exception e) when (e is SshNodeException or TimeoutException or IOException || IsSshFailure(e))
        {
            // Not adoptable now; the controller replaces it, and it is stopped when the node answers again.
            slot.MarkDown(NodeSlot.Describe(e));
            _pendingStops.Add(new PendingStop(slot.Key, handle.Service, handle.ReplicaId));
            return false;
        }

        _placed[(handle.Service, handle.ReplicaId)] = new Placed(slot.Key, handle, null, new Uri(handle.EndpointUrl).Port);
        return true;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_monitor is not null)
        {
            try
            {
                await _monitor.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }

        foreach (var slot in _nodes.Values)
            await slot.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _placing.Dispose();
    }

    private static string PoolOf(IReadOnlyDictionary<string, object?> settings, string keyPath)
    {
        foreach (var key in settings.Keys)
        {
            if (!SettingKeys.Contains(key, StringComparer.Ordinal))
                throw new ServiceSpecException(keyPath.Replace("pool", key, StringComparison.Ordinal), $"unknown setting of an ssh tier; known: {string.Join(", ", SettingKeys)}");
        }

        if (settings.TryGetValue("private_network", out var inside) && inside is not bool)
            throw new ServiceSpecException(keyPath.Replace("pool", "private_network", StringComparison.Ordinal), "must be true or false");
        return settings.GetValueOrDefault("pool") is string { Length: > 0 } pool
            ? pool
            : throw new ServiceSpecException(keyPath, "an ssh tier needs settings: {pool: NAME}, the pool's name in ssh_node_pools.yaml");
    }

    private SshNodePool LoadPool(string name)
    {
        var path = SshNodePools.DefaultPath(_context.Home);
        if (!File.Exists(path))
        {
            throw new ServiceSpecException("settings.pool",
                $"pool '{name}': no node pool file ({Path.Combine(_context.Home, SshNodePools.FileName)} or ~/.sky/{SshNodePools.FileName}); write one in SkyPilot's format, or `wf ssh import-terraform`");
        }

        try
        {
            return SshNodePools.Load(path).Get(name);
        }
        catch (SshPoolFileException e)
        {
            throw new ServiceSpecException("settings.pool", e.Message);
        }
    }

    private NodeSlot SlotFor(SshNodePool pool, SshNode node) =>
        _nodes.GetOrAdd(pool.Name + "/" + node.Name, key => new NodeSlot(key, pool.Name, node, pool.ReplicasPerNode, _options.NodeRoot(node)));

    private NodeSlot? SlotOf(ReplicaHandle handle)
    {
        if (_placed.TryGetValue((handle.Service, handle.ReplicaId), out var placed) && _nodes.TryGetValue(placed.NodeKey, out var known))
            return known;
        if (handle.Pool is null || handle.Host is null)
            return null;
        SshNodePool pool;
        try
        {
            pool = LoadPool(handle.Pool);
        }
        catch (ServiceSpecException)
        {
            return null;
        }

        return pool.Nodes.FirstOrDefault(n => n.Host == handle.Host) is { } node ? SlotFor(pool, node) : null;
    }

    private NodeReplica ToNodeReplica(ReplicaHandle handle, NodeSlot slot) => new()
    {
        Service = handle.Service,
        ReplicaId = handle.ReplicaId,
        Mode = slot.Facts!.RuntimeMode,
        Port = new Uri(handle.EndpointUrl).Port,
        Pid = handle.Pid,
        StartTime = handle.ProcessStartTime,
        BootId = handle.BootId,
        LogPath = handle.LogPath ?? slot.Facts.Layout.LogPath(handle.Service, handle.ReplicaId),
    };

    private static bool IsSshFailure(Exception e) => e.GetType().Namespace?.StartsWith("Renci.SshNet", StringComparison.Ordinal) == true;

    private static string Count(int n, string what) => n.ToString(CultureInfo.InvariantCulture) + " " + what + (n == 1 ? "" : "s");

    private sealed record Placed(string NodeKey, ReplicaHandle Handle, NodeReplica? Replica, int Port);
}
