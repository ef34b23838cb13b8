using System.Globalization;
using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Ssh;

public sealed partial class SshProvider
{
    // Variables whose value, when it names a file on this machine, must name the node's copy instead.
    private static readonly string[] FileVariables = ["MODEL_PATH", "WF_TLS_CERT", "WF_TLS_KEY", "WF_TLS_CLIENT_CA", "WF_API_KEY_FILE"];

    /// <inheritdoc />
    public async Task<TierCapacity> CheckTierAsync(TierSpec tier, ResourcesSpec resources, string keyPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(resources);
        SshNodePool pool;
        try
        {
            pool = LoadPool(PoolOf(tier.Settings, "pool"));
        }
        catch (ServiceSpecException e)
        {
            throw new ServiceSpecException(keyPath + "." + e.KeyPath.Replace("settings.", "", StringComparison.Ordinal), $"tier '{tier.Name}': {e.Message.Split(": ", 2)[^1]}");
        }

        EnsureMonitor();
        var slots = pool.Nodes.Select(n => SlotFor(pool, n)).ToList();
        var failures = new List<string>();
        await Task.WhenAll(slots.Select(async s =>
        {
            try
            {
                await s.ConnectAsync(_connector, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SshNodeException or TimeoutException or IOException || IsSshFailure(e))
            {
                lock (failures)
                    failures.Add(e is SshNodeException ? e.Message : $"{s.Node.Name}: {e.Message}");
            }
        })).ConfigureAwait(false);
        if (failures.Count > 0)
        {
            throw new ServiceSpecException(keyPath + ".pool",
                $"tier '{tier.Name}': pool '{pool.Name}': {string.Join("; ", failures.Order(StringComparer.Ordinal))}; fix the node or the pool file (`wf ssh check --pool {pool.Name}` shows every node)");
        }

        var missing = slots.Where(s => s.Facts!.WfVersion is null).Select(s => s.Node.Name).ToList();
        if (missing.Count > 0)
        {
            throw new ServiceSpecException(keyPath + ".pool",
                $"tier '{tier.Name}': pool '{pool.Name}': no wf installed on {string.Join(", ", missing)}; run `wf ssh up --pool {pool.Name}` first");
        }

        return KnownCapacity(tier, resources)!;
    }

    /// <inheritdoc />
    public TierCapacity? KnownCapacity(TierSpec tier, ResourcesSpec resources)
    {
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(resources);
        if (tier.Settings.GetValueOrDefault("pool") is not string name)
            return null;
        var slots = _nodes.Values.Where(s => s.Pool == name).ToList();
        if (slots.Count == 0)
            return null;
        var up = slots.Where(s => s.IsUp).ToList();
        var each = up.Select(s => s.Fit(resources)).ToList();
        var total = each.Sum();
        var per = each.Distinct().Count() == 1 && each.Count > 0 ? $", {Count(each[0], "replica")} each" : "";
        return new TierCapacity(total, $"pool {name}: {up.Count} of {Count(slots.Count, "node")} answer{per}");
    }

    private async Task<(NodeSlot Slot, int Port)> ChooseNodeAsync(SshNodePool pool, ReplicaLaunchRequest request, CancellationToken cancellationToken)
    {
        var slots = pool.Nodes.Select(n => SlotFor(pool, n)).ToList();
        await Task.WhenAll(slots.Where(s => !s.IsUp).Select(s => s.TryConnectAsync(_connector, cancellationToken))).ConfigureAwait(false);
        var candidates = slots
            .Where(s => s.IsUp)
            .Select(s => (Slot: s, Free: s.Fit(request.Resources) - _placed.Values.Count(p => p.NodeKey == s.Key)))
            .Where(c => c.Free > 0)
            .OrderByDescending(c => c.Free)
            .ThenBy(c => slots.IndexOf(c.Slot))
            .ToList();
        if (candidates.Count == 0)
        {
            var why = string.Join("; ", slots.Select(s => s.IsUp
                ? $"{s.Node.Name}: {_placed.Values.Count(p => p.NodeKey == s.Key)} of {s.Fit(request.Resources)} replicas placed"
                : $"{s.Node.Name}: does not answer ({s.LastError})"));
            throw new InvalidOperationException($"no node of pool '{pool.Name}' has room: {why}");
        }

        var slot = candidates[0].Slot;
        var used = _placed.Values.Where(p => p.NodeKey == slot.Key).Select(p => p.Port).ToHashSet();
        var port = request.PortHint ?? _options.FirstPort;
        while (used.Contains(port))
            port++;
        return (slot, port);
    }

    private async Task<ReplicaHandle> StartOnAsync(NodeSlot slot, SshNodePool pool, ReplicaLaunchRequest request, int port, CancellationToken cancellationToken)
    {
        var session = await slot.ConnectAsync(_connector, cancellationToken).ConfigureAwait(false);
        var facts = slot.Facts!;
        if (facts.WfVersion is null)
            throw new SshNodeException(slot.Node, $"no wf installed under {facts.Layout.Root}; run `wf ssh up --pool {pool.Name}`");
        var layout = facts.Layout;
        var replicaDir = layout.ReplicaDirectory(request.Service, request.ReplicaId);
        var forwarded = slot.Node.ProxyJump is not null && !_options.DirectToPrivateAddresses && request.TierSettings.GetValueOrDefault("private_network") is not true;
        // The balancer checks the name it connected to: a forwarded replica is reached as 127.0.0.1.
        var tls = request.Tls?.Issue(request.ReplicaId, forwarded ? "127.0.0.1" : slot.Node.Host);
        var envs = new Dictionary<string, string>(request.Envs, StringComparer.Ordinal);
        if (tls is not null)
        {
            envs["WF_TLS_CERT"] = tls.CertFile;
            envs["WF_TLS_KEY"] = tls.KeyFile;
            envs["WF_TLS_CLIENT_CA"] = tls.ClientCaFile;
        }

        foreach (var variable in FileVariables)
        {
            if (envs.GetValueOrDefault(variable) is { } local && Path.IsPathRooted(local) && File.Exists(local))
                envs[variable] = await CopyToNodeAsync(session, slot, local, variable == "MODEL_PATH" ? null : replicaDir + "/files/" + Path.GetFileName(local), cancellationToken).ConfigureAwait(false);
        }

        envs["PATH"] = layout.Root + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        var spec = new NodeReplicaSpec
        {
            Service = request.Service,
            ReplicaId = request.ReplicaId,
            Version = request.Version,
            Run = request.Run,
            Command = request.Command == ServicePlan.WfCommand ? layout.Wf : request.Command,
            Arguments = request.Arguments,
            Setup = request.Setup,
            Envs = envs,
            Port = port,
            Host = _options.ListenAddress ?? slot.Node.Host,
            // The daemon's folder means nothing on a node: replicas run in their own folder there.
            WorkingDirectory = null,
            Cpus = ResourceFit.Cpus(request.Resources),
            MemoryGiB = ResourceFit.MemoryGiB(request.Resources),
            Mlock = envs.GetValueOrDefault("MLOCK") is "1" or "true" or "True",
            DrainTimeout = _options.DrainTimeout,
        };
        var started = await NodeRuntime.For(facts, _context.Time).StartAsync(session, spec, cancellationToken).ConfigureAwait(false);
        var endpoint = await EndpointAsync(slot, port, tls is not null, forwarded, cancellationToken).ConfigureAwait(false);
        var handle = new ReplicaHandle
        {
            Provider = Name,
            Service = request.Service,
            ReplicaId = request.ReplicaId,
            EndpointUrl = endpoint,
            Pid = started.Pid,
            ProcessStartTime = started.StartTime,
            BootId = started.BootId,
            LogPath = started.LogPath,
            Host = slot.Node.Host,
            Pool = pool.Name,
        };
        _placed[(request.Service, request.ReplicaId)] = new Placed(slot.Key, handle, started, port);
        Log.Launched(_logger, request.Service, request.ReplicaId, slot.Node.Name, endpoint);
        return handle;
    }

    /// <summary>
    /// Where the balancer reaches a replica: the node's address, or for a node behind a jump host a loopback port
    /// forwarded through the SSH connection (the layout where the balancer runs outside the private network).
    /// </summary>
    private async Task<string> EndpointAsync(NodeSlot slot, int port, bool https, bool forwarded, CancellationToken cancellationToken)
    {
        var scheme = https ? "https" : "http";
        if (!forwarded)
            return $"{scheme}://{(slot.Node.Host.Contains(':') ? $"[{slot.Node.Host}]" : slot.Node.Host)}:{port.ToString(CultureInfo.InvariantCulture)}";
        var session = await slot.ConnectAsync(_connector, cancellationToken).ConfigureAwait(false);
        var local = await session.ForwardLocalPortAsync(slot.Node.Host, port, cancellationToken).ConfigureAwait(false);
        return $"{scheme}://127.0.0.1:{local.ToString(CultureInfo.InvariantCulture)}";
    }

    private async Task<string> CopyToNodeAsync(ISshSession session, NodeSlot slot, string local, string? remote, CancellationToken cancellationToken)
    {
        var sha = await _hashes.GetAsync(local, cancellationToken).ConfigureAwait(false);
        remote ??= slot.Facts!.Layout.ModelPath(sha);
        if (slot.Installed.ContainsKey(remote + "@" + sha))
            return remote;
        await NodeInstaller.InstallAsync(session, new InstallItem(local, remote), sha, null, cancellationToken).ConfigureAwait(false);
        slot.Installed[remote + "@" + sha] = true;
        return remote;
    }
}
