using System.Globalization;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>Reads a node's <see cref="NodeFacts"/> with one POSIX sh command (any Linux: Debian, Ubuntu, Alpine's busybox).</summary>
public static class NodeProbe
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static readonly string[] InterestingFlags = ["avx512f", "avx512bw", "avx512_vnni", "avx2", "avx_vnni"];

    /// <summary>
    /// Probes the node behind <paramref name="session"/>; <paramref name="rootOverride"/> puts the install root elsewhere
    /// than the login's default. Throws <see cref="SshNodeException"/> when the node's answer cannot be read.
    /// </summary>
    public static async Task<NodeFacts> ReadAsync(ISshSession session, string? rootOverride, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var result = await session.RunAsync(Command(rootOverride), Timeout, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new SshNodeException(session.Node,
                $"the node probe failed with exit code {result.ExitCode}: {Trim(result.Stderr)}; check that the login's shell is a POSIX sh and /proc is mounted");
        }

        return Parse(session.Node, result.Stdout);
    }

    /// <summary>The probe script.</summary>
    public static string Command(string? rootOverride)
    {
        var root = rootOverride is null
            ? "if [ \"$uid\" = 0 ]; then R=" + NodeLayout.SystemRoot + "; else R=\"$HOME/" + NodeLayout.UserRoot + "\"; fi"
            : "R=" + ShellQuote.Quote(rootOverride);
        return "U=\n" + NodeScripts.Functions + $$"""
            echo wf-probe=1
            uid=$(id -u); echo "uid=$uid"
            {{root}}
            echo "root=$R"
            echo "cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null)"
            while read -r k v _; do
              case $k in
                MemTotal:) echo "mem_total_kb=$v" ;;
                MemAvailable:) echo "mem_available_kb=$v" ;;
              esac
            done < /proc/meminfo
            p=$R; while [ ! -d "$p" ]; do p=$(dirname "$p"); done
            df -Pk "$p" 2>/dev/null | { read -r _; read -r _ _ _ a _; echo "disk_free_kb=$a"; }
            f=$(grep -m1 -E '^(flags|Features)[[:space:]]*:' /proc/cpuinfo 2>/dev/null); echo "flags=${f#*:}"
            echo "kernel=$(uname -r)"; echo "arch=$(uname -m)"
            if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then echo systemd=1; sd=1; else echo systemd=0; sd=; fi
            if [ -x "$R/bin/wf" ]; then
              if command -v timeout >/dev/null 2>&1; then v=$(timeout 30 "$R/bin/wf" --version 2>/dev/null | head -n1); else v=$("$R/bin/wf" --version 2>/dev/null | head -n1); fi
              echo "wf=${v:-unknown}"
            fi
            [ "$uid" = 0 ] && [ -n "$sd" ] && U={{NodeLayout.UnitDirectory}}
            wf_list
            """;
    }

    /// <summary>Reads the probe's output; throws <see cref="SshNodeException"/> naming the node when it is not a probe's answer.</summary>
    public static NodeFacts Parse(SshNode node, string stdout)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(stdout);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in stdout.Split('\n'))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && !line.Contains('\t', StringComparison.Ordinal))
            {
                values.TryAdd(line[..eq].Trim(), line[(eq + 1)..].Trim());
            }
        }

        if (!values.ContainsKey("wf-probe"))
        {
            throw Garbage(node, "it printed no probe marker", stdout);
        }

        var uid = Int(node, values, "uid", stdout);
        var root = Value(node, values, "root", stdout);
        if (!root.StartsWith('/'))
        {
            throw Garbage(node, $"the install root '{root}' is not absolute (is $HOME set for the login?)", stdout);
        }

        var layout = new NodeLayout { Root = root.Length > 1 ? root.TrimEnd('/') : root, IsRootUser = uid == 0 };
        var cores = Int(node, values, "cores", stdout);
        var total = Long(node, values, "mem_total_kb", stdout);
        if (cores < 1 || total < 1)
        {
            throw Garbage(node, $"it reported {cores} cores and {total} kB of memory", stdout);
        }

        var available = values.TryGetValue("mem_available_kb", out var a) && long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var av) ? av : total;
        var disk = values.TryGetValue("disk_free_kb", out var d) && long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var dv) ? dv : 0;
        var flags = values.TryGetValue("flags", out var f)
            ? f.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(InterestingFlags.Contains).ToHashSet(StringComparer.Ordinal)
            : [];
        var (replicas, bootId) = ParseListing(node, layout, stdout);
        return new NodeFacts
        {
            Node = node.Name,
            Cores = cores,
            MemoryTotalBytes = total * 1024,
            MemoryAvailableBytes = available * 1024,
            DiskFreeBytes = disk * 1024,
            CpuFlags = flags,
            Kernel = values.GetValueOrDefault("kernel", ""),
            Arch = values.GetValueOrDefault("arch", ""),
            Systemd = values.GetValueOrDefault("systemd") == "1",
            Uid = uid,
            Layout = layout,
            WfVersion = values.GetValueOrDefault("wf"),
            BootId = bootId,
            Replicas = replicas,
        };
    }

    /// <summary>Reads the <c>replica</c> and <c>bootid</c> lines <c>wf_list</c> prints.</summary>
    internal static (IReadOnlyList<NodeReplicaState> Replicas, string? BootId) ParseListing(SshNode node, NodeLayout layout, string stdout)
    {
        var replicas = new List<NodeReplicaState>();
        string? bootId = null;
        foreach (var line in stdout.Split('\n'))
        {
            var cells = line.Split('\t');
            if (cells is ["bootid", var id])
            {
                bootId = id.Trim() is { Length: > 0 } b ? b : null;
            }
            else if (cells is ["replica", var name, var mode, var state, var pid, var start, var port, var code])
            {
                var dash = name.LastIndexOf('-');
                if (dash < 1 || !int.TryParse(name.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var replicaId))
                {
                    continue; // a folder someone else put there: not one of ours
                }

                var service = name[..dash];
                var systemd = mode == "systemd";
                var replica = new NodeReplica
                {
                    Service = service,
                    ReplicaId = replicaId,
                    Mode = systemd ? NodeRuntimeMode.Systemd : NodeRuntimeMode.Supervisor,
                    Port = int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0,
                    Pid = int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var pv) ? pv : null,
                    StartTime = long.TryParse(start, NumberStyles.None, CultureInfo.InvariantCulture, out var sv) ? sv : null,
                    LogPath = layout.LogPath(service, replicaId),
                    UnitName = systemd ? NodeLayout.UnitName(service, replicaId) : null,
                };
                int? exit = int.TryParse(code.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var c) ? c : null;
                var status = state switch
                {
                    "running" when replica.Pid is null => new ProviderReplicaStatus(ProviderReplicaState.Running, null, "restarting after a failure"),
                    "running" => ProviderReplicaStatus.Running,
                    _ => ProviderReplicaStatus.Exited(exit, exit is { } e ? $"exited with code {e}" : "its supervisor is gone"),
                };
                replicas.Add(new NodeReplicaState(replica, status));
            }
        }

        // Every replica seen in this listing carries the boot id it was seen under.
        return (replicas.Select(r => r with { Replica = r.Replica with { BootId = bootId } }).ToList(), bootId);
    }

    private static string Value(SshNode node, Dictionary<string, string> values, string key, string stdout) =>
        values.TryGetValue(key, out var value) && value.Length > 0 ? value : throw Garbage(node, $"it gave no '{key}'", stdout);

    private static int Int(SshNode node, Dictionary<string, string> values, string key, string stdout) =>
        int.TryParse(Value(node, values, key, stdout), NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v : throw Garbage(node, $"'{key}' is not a number ('{values[key]}')", stdout);

    private static long Long(SshNode node, Dictionary<string, string> values, string key, string stdout) =>
        long.TryParse(Value(node, values, key, stdout), NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v : throw Garbage(node, $"'{key}' is not a number ('{values[key]}')", stdout);

    private static SshNodeException Garbage(SshNode node, string what, string stdout) =>
        new(node, $"the node's answer to the probe is unreadable: {what}. The answer began: '{Trim(stdout)}'. "
            + "A login shell that prints to stdout (a banner or echo in .bashrc/.profile) breaks commands over SSH; make it quiet for non-interactive logins");

    internal static string Trim(string text) => text.Length <= 200 ? text.Trim() : text[..200].Trim() + "...";
}
