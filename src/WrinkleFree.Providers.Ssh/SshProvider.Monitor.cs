using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Sessions;

namespace WrinkleFree.Providers.Ssh;

public sealed partial class SshProvider
{
    // Generous: a busy node (or a busy controller machine) answers slowly; a dead one never does, and the replicas'
    // own readiness probes take them out of service long before this matters.
    private static readonly TimeSpan LivenessTimeout = TimeSpan.FromSeconds(10);

    private void EnsureMonitor()
    {
        if (_monitor is not null)
            return;
        lock (_nodes)
            _monitor ??= Task.Run(() => MonitorAsync(_stopping.Token));
    }

    /// <summary>
    /// Every <see cref="SshProviderOptions.NodeCheckInterval"/>: a node that answered is asked again (a dead link or sshd
    /// shows here, and its capacity leaves the plan), one that did not is tried again, and one that is back gets the stops
    /// it is owed before anything else.
    /// </summary>
    private async Task MonitorAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.WhenAll(_nodes.Values.Select(slot => CheckNodeAsync(slot, cancellationToken))).ConfigureAwait(false);
            await Task.Delay(_options.NodeCheckInterval, _context.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CheckNodeAsync(NodeSlot slot, CancellationToken cancellationToken)
    {
        try
        {
            var wasUp = slot.IsUp;
            if (wasUp)
            {
                try
                {
                    var alive = await slot.Session!.RunAsync("true", LivenessTimeout, cancellationToken).ConfigureAwait(false);
                    if (!alive.Succeeded)
                        slot.MarkDown($"a liveness check exited with {alive.ExitCode}");
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    slot.MarkDown(NodeSlot.Describe(e));
                }

                if (!slot.IsUp)
                    Log.NodeLost(_logger, slot.Node.Name, slot.LastError ?? "");
            }
            else if (await slot.TryConnectAsync(_connector, cancellationToken).ConfigureAwait(false))
            {
                Log.NodeBack(_logger, slot.Node.Name);
            }

            if (slot.IsUp)
                await StopOwedAsync(slot, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception e)
        {
            Log.NodeCheckFailed(_logger, slot.Node.Name, e);
        }
    }

    private async Task StopOwedAsync(NodeSlot slot, CancellationToken cancellationToken)
    {
        foreach (var stop in _pendingStops.For(slot.Key))
        {
            if (_placed.ContainsKey((stop.Service, stop.ReplicaId)))
            {
                // Adopted or launched again since: it is wanted after all.
                _pendingStops.Remove(stop);
                continue;
            }

            try
            {
                await NodeRuntime.For(slot.Facts!, _context.Time).StopAsync(slot.Session!, stop.Service, stop.ReplicaId, _options.DrainTimeout, cancellationToken).ConfigureAwait(false);
                _pendingStops.Remove(stop);
                Log.StaleStopped(_logger, stop.Service, stop.ReplicaId, slot.Node.Name);
            }
            catch (Exception e) when (e is SshNodeException or TimeoutException or IOException || IsSshFailure(e))
            {
                slot.MarkDown(NodeSlot.Describe(e));
                return;
            }
        }
    }
}
