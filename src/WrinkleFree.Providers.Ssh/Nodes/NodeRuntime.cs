using System.Globalization;
using System.Runtime.CompilerServices;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>
/// Runs replicas on one node with the local provider's contract: start (idempotent per replica), status, stop with a
/// drain, logs (the replica's log file, tail and follow), adopt (same pid and start time only), list. A replica is a
/// systemd unit (<see cref="NodeRuntimeMode.Systemd"/>) or a supervised background process; both restart it on failure
/// and append its output to <c>replicas/&lt;service&gt;-&lt;id&gt;/log</c>. All waiting happens on the node.
/// </summary>
public sealed class NodeRuntime
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);
    private readonly TimeProvider _time;

    /// <summary>A runtime for replicas under <paramref name="layout"/>, run as <paramref name="mode"/> says.</summary>
    public NodeRuntime(NodeLayout layout, NodeRuntimeMode mode, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(time);
        Layout = layout;
        Mode = mode;
        _time = time;
    }

    /// <summary>Where the replicas' files are.</summary>
    public NodeLayout Layout { get; }

    /// <summary>How new replicas run.</summary>
    public NodeRuntimeMode Mode { get; }

    /// <summary>The runtime a node's facts call for: units for root where systemd runs, else the supervisor.</summary>
    public static NodeRuntime For(NodeFacts facts, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(facts);
        return new NodeRuntime(facts.Layout, facts.RuntimeMode, time);
    }

    /// <summary>
    /// Starts the replica, or returns it when it already runs (its unit is active or its supervisor alive). Throws
    /// <see cref="SshNodeException"/> when the node could not start it.
    /// </summary>
    public async Task<NodeReplica> StartAsync(ISshSession session, NodeReplicaSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var dir = Layout.ReplicaDirectory(spec.Service, spec.ReplicaId);
        var d = ShellQuote.Quote(dir);
        var unit = NodeLayout.UnitName(spec.Service, spec.ReplicaId);
        var banner = $"--- wf: replica {spec.ReplicaId} of {spec.Service} (version {spec.Version}) starting at {_time.GetUtcNow():O} on port {spec.Port} ---";
        static string Write(string content, string path) => $"printf '%s' {ShellQuote.Quote(content)} > {path}\n";

        var script = Prelude() + $"d={d}\n" + """
            if [ -d "$d" ]; then
              wf_inspect "$d"
              if [ "$state" = running ]; then printf 'bootid\t%s\n' "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"; exit 0; fi
            fi
            mkdir -p "$d" || exit 1
            rm -f "$d/exit" "$d/stop" "$d/child.pid" "$d/supervisor.pid" "$d/boot"
            umask 077

            """
            + Write(ReplicaFiles.RunScript(spec, spec.WorkingDirectory ?? dir), "\"$d/run\"")
            + Write(spec.Port.ToString(CultureInfo.InvariantCulture), "\"$d/port\"")
            + $"printf '%s\\n' {ShellQuote.Quote(banner)} >> \"$d/log\"\n";
        if (Mode == NodeRuntimeMode.Systemd)
        {
            script += Write(ReplicaFiles.SystemdEnvironment(spec), "\"$d/env\"")
                + "umask 022\n"
                + Write(SystemdUnit.Render(spec, Layout), ShellQuote.Quote(NodeLayout.UnitDirectory + "/" + unit))
                + $"u={ShellQuote.Quote(unit)}\n"
                + """
                systemctl daemon-reload && { systemctl reset-failed "$u" 2>/dev/null; systemctl start "$u"; } || { echo "systemctl could not start $u" >&2; exit 1; }
                i=0
                while [ $i -lt 300 ]; do
                  p=$(systemctl show -p MainPID "$u" 2>/dev/null); p=${p#MainPID=}
                  [ -n "$p" ] && [ "$p" != 0 ] && break
                  systemctl is-active --quiet "$u" || break
                  sleep 0.1; i=$((i+1))
                done

                """;
        }
        else
        {
            script += Write(ReplicaFiles.ShellEnvironment(spec), "\"$d/env.sh\"")
                + Write(SupervisorScript.Text, "\"$d/supervise\"")
                + $"delay={Seconds(spec.RestartDelay)}\n"
                + """
                ( cd "$d" && exec setsid nohup /bin/sh "$d/supervise" "$d" "$delay" >> "$d/log" 2>&1 < /dev/null & )
                i=0
                while [ $i -lt 300 ]; do
                  { [ -s "$d/child.pid" ] || [ -f "$d/exit" ]; } && break
                  sleep 0.1; i=$((i+1))
                done

                """;
        }

        script += """
            wf_inspect "$d"
            printf 'bootid\t%s\n' "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
            """;
        var result = await session.RunAsync(script, CommandTimeout, cancellationToken).ConfigureAwait(false);
        var found = Find(session, result, spec.Service, spec.ReplicaId);
        return found?.Replica ?? throw new SshNodeException(session.Node,
            $"replica {NodeLayout.ReplicaName(spec.Service, spec.ReplicaId)} did not start (exit code {result.ExitCode}): {NodeProbe.Trim(result.Stderr)}; see {dir}/log on the node");
    }

    /// <summary>
    /// How the replica is: Running while its unit or supervisor keeps it (even when restarted as another process: the
    /// detail says so), Exited with the code when it ended, Exited without a code when nothing of it is on the node.
    /// </summary>
    public async Task<ProviderReplicaStatus> StatusAsync(ISshSession session, NodeReplica replica, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replica);
        var found = await InspectAsync(session, replica.Service, replica.ReplicaId, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return ProviderReplicaStatus.Exited(null, $"replica {NodeLayout.ReplicaName(replica.Service, replica.ReplicaId)} is not on the node (stopped, or the node was reinstalled)");
        }

        return found.Status.State == ProviderReplicaState.Running && found.Replica.Pid is { } pid && pid != replica.Pid
            ? new ProviderReplicaStatus(ProviderReplicaState.Running, null, $"restarted on the node: now pid {pid}")
            : found.Status;
    }

    /// <summary>The replica as the node has it now, or null when nothing of it is there.</summary>
    public async Task<NodeReplicaState?> InspectAsync(ISshSession session, string service, int replicaId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var dir = ShellQuote.Quote(Layout.ReplicaDirectory(service, replicaId));
        var result = await RunAsync(session, Prelude() + $"[ -d {dir} ] && wf_inspect {dir}\nprintf 'bootid\\t%s\\n' \"$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)\"\n", CommandTimeout, cancellationToken).ConfigureAwait(false);
        return Find(session, result, service, replicaId);
    }

    /// <summary>
    /// Stops the replica: SIGTERM (to the unit, or the supervisor, which passes it on), up to <paramref name="drainTimeout"/>
    /// for it to drain, then SIGKILL; removes its unit and pid files and keeps its log. Stopping what is already gone
    /// succeeds. Returns whether it had to be killed.
    /// </summary>
    public async Task<bool> StopAsync(ISshSession session, string service, int replicaId, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var ticks = Math.Max(1, (long)Math.Ceiling(drainTimeout.TotalSeconds * 10)).ToString(CultureInfo.InvariantCulture);
        var script = Prelude()
            + $"d={ShellQuote.Quote(Layout.ReplicaDirectory(service, replicaId))}\nu={ShellQuote.Quote(NodeLayout.UnitName(service, replicaId))}\nticks={ticks}\n"
            + """
            killed=
            if [ -n "$U" ] && [ -f "$U/$u" ]; then
              systemctl stop --no-block "$u" 2>/dev/null
              i=0; while [ $i -lt "$ticks" ] && systemctl is-active --quiet "$u"; do sleep 0.1; i=$((i+1)); done
              if systemctl is-active --quiet "$u"; then killed=1; systemctl kill -s KILL "$u" 2>/dev/null; fi
              i=0; while [ $i -lt 100 ] && systemctl is-active --quiet "$u"; do sleep 0.1; i=$((i+1)); done
              rm -f "$U/$u"; systemctl daemon-reload; systemctl reset-failed "$u" 2>/dev/null
            elif [ -f "$d/supervisor.pid" ]; then
              touch "$d/stop"
              sp=$(cat "$d/supervisor.pid" 2>/dev/null); c=$(cat "$d/child.pid" 2>/dev/null)
              if [ -f "$d/boot" ] && [ "$(cat "$d/boot" 2>/dev/null)" != "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)" ]; then sp=; c=; fi
              if wf_alive "$sp"; then kill -TERM "$sp" 2>/dev/null
              elif wf_alive "$c"; then kill -TERM "-$c" 2>/dev/null || kill -TERM "$c" 2>/dev/null; fi
              i=0; while [ $i -lt "$ticks" ] && { wf_alive "$sp" || wf_alive "$c"; }; do sleep 0.1; i=$((i+1)); done
              if wf_alive "$sp" || wf_alive "$c"; then
                killed=1
                wf_alive "$sp" && kill -KILL "$sp" 2>/dev/null
                [ -n "$c" ] && { kill -KILL "-$c" 2>/dev/null || kill -KILL "$c" 2>/dev/null; }
                echo "--- wf: the replica did not drain in time; killed ---" >> "$d/log"
              fi
              i=0; while [ $i -lt 100 ] && { wf_alive "$sp" || wf_alive "$c"; }; do sleep 0.1; i=$((i+1)); done
            fi
            if [ -d "$d" ]; then
              cd "$d" && rm -f supervisor.pid child.pid stop exit boot env env.sh port run supervise
            fi
            [ -n "$killed" ] && echo killed
            exit 0
            """;
        var result = await RunAsync(session, script, drainTimeout + CommandTimeout, cancellationToken).ConfigureAwait(false);
        return result.Stdout.Contains("killed", StringComparison.Ordinal);
    }

    /// <summary>
    /// Whether <paramref name="replica"/> is still the very process it was: running, with the same pid, start time and
    /// boot. A replica restarted since (by its unit or supervisor) is not adopted.
    /// </summary>
    public async Task<bool> AdoptAsync(ISshSession session, NodeReplica replica, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replica);
        var found = await InspectAsync(session, replica.Service, replica.ReplicaId, cancellationToken).ConfigureAwait(false);
        return found is { Status.State: ProviderReplicaState.Running, Replica: var now }
            && replica.Pid is { } pid && now.Pid == pid
            && replica.StartTime is { } start && now.StartTime == start
            && (replica.BootId is null || now.BootId is null || replica.BootId == now.BootId);
    }

    /// <summary>The replica's log: the last <paramref name="tail"/> lines (all when null), then new ones while <paramref name="follow"/> until cancelled.</summary>
    public IAsyncEnumerable<string> LogsAsync(ISshSession session, string service, int replicaId, int? tail, bool follow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (tail is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(tail), tail, "tail must be >= 0");
        }

        var lines = tail is { } n ? n.ToString(CultureInfo.InvariantCulture) : "+1";
        return session.StreamLinesAsync($"tail -n {lines}{(follow ? " -F" : "")} {ShellQuote.Quote(Layout.LogPath(service, replicaId))} 2>/dev/null", cancellationToken);
    }

    /// <summary>Every replica of ours on the node, running or ended (its unit or pid files still there).</summary>
    public async Task<IReadOnlyList<NodeReplicaState>> ListAsync(ISshSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var result = await RunAsync(session, Prelude() + "wf_list\n", CommandTimeout, cancellationToken).ConfigureAwait(false);
        return NodeProbe.ParseListing(session.Node, Layout, result.Stdout).Replicas;
    }

    /// <summary>Stops every replica of ours on the node (for <c>wf ssh down</c>); returns those it stopped.</summary>
    public async Task<IReadOnlyList<NodeReplica>> RemoveAllAsync(ISshSession session, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        var replicas = await ListAsync(session, cancellationToken).ConfigureAwait(false);
        foreach (var replica in replicas)
        {
            await StopAsync(session, replica.Replica.Service, replica.Replica.ReplicaId, drainTimeout, cancellationToken).ConfigureAwait(false);
        }

        if (Mode == NodeRuntimeMode.Systemd)
        {
            // Units whose folder is gone (removed by hand) would otherwise outlive `wf ssh down`.
            await RunAsync(session, Prelude() + """
                for f in "$U"/wrinklefree-*.service; do
                  [ -f "$f" ] || continue
                  systemctl stop "${f##*/}" 2>/dev/null; rm -f "$f"
                done
                systemctl daemon-reload
                """, drainTimeout + CommandTimeout, cancellationToken).ConfigureAwait(false);
        }

        return [.. replicas.Select(r => r.Replica)];
    }

    private string Prelude() => NodeScripts.Prelude(Layout, Mode == NodeRuntimeMode.Systemd);

    private NodeReplicaState? Find(ISshSession session, SshCommandResult result, string service, int replicaId) =>
        NodeProbe.ParseListing(session.Node, Layout, result.Stdout).Replicas.LastOrDefault(r => r.Replica.Service == service && r.Replica.ReplicaId == replicaId);

    private static async Task<SshCommandResult> RunAsync(ISshSession session, string script, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = await session.RunAsync(script, timeout, cancellationToken).ConfigureAwait(false);
        return result.Succeeded
            ? result
            : throw new SshNodeException(session.Node, $"a replica command failed (exit code {result.ExitCode}): {NodeProbe.Trim(result.Stderr)}; check the node's disk and that the login owns {session.Node.User}'s WrinkleFree folder");
    }

    private static string Seconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
