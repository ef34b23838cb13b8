using System.Globalization;
using System.Text;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>
/// The unit file of one replica: restarted on failure, limited to the spec's CPUs and memory, memlock lifted when the
/// replica mlocks its weights, drained with SIGTERM for the drain timeout, and writing to the same log file the
/// supervisor writes, so logs read the same on every node. It has no [Install] section: the controller, not the boot,
/// decides what runs.
/// </summary>
public static class SystemdUnit
{
    /// <summary>The unit text for <paramref name="spec"/> with its files under <paramref name="layout"/>.</summary>
    public static string Render(NodeReplicaSpec spec, NodeLayout layout)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(layout);
        var dir = layout.ReplicaDirectory(spec.Service, spec.ReplicaId);
        var unit = new StringBuilder();
        void Line(string text) => unit.Append(text).Append('\n');

        Line($"# Written by WrinkleFree for replica {spec.ReplicaId} of {spec.Service} (version {spec.Version.ToString(CultureInfo.InvariantCulture)}); removed when the replica stops.");
        Line("[Unit]");
        Line($"Description=WrinkleFree replica {NodeLayout.ReplicaName(spec.Service, spec.ReplicaId)} (version {spec.Version.ToString(CultureInfo.InvariantCulture)})");
        Line("After=network-online.target");
        Line("Wants=network-online.target");
        Line("StartLimitIntervalSec=0");
        Line("");
        Line("[Service]");
        Line("Type=simple");
        Line($"WorkingDirectory={Escape(spec.WorkingDirectory ?? dir)}");
        Line($"EnvironmentFile={Escape(dir)}/env");
        Line($"ExecStart=/bin/sh \"{Escape(dir)}/run\"");
        Line("Restart=on-failure");
        Line($"RestartSec={Seconds(spec.RestartDelay)}");
        Line("KillMode=control-group");
        Line("KillSignal=SIGTERM");
        Line($"TimeoutStopSec={Seconds(spec.DrainTimeout)}");
        Line($"StandardOutput=append:{Escape(dir)}/log");
        Line($"StandardError=append:{Escape(dir)}/log");
        if (spec.Cpus is { } cpus)
        {
            Line($"CPUQuota={Math.Round(cpus * 100).ToString(CultureInfo.InvariantCulture)}%");
        }

        if (spec.MemoryGiB is { } memory)
        {
            Line($"MemoryMax={((long)Math.Round(memory * 1024 * 1024 * 1024)).ToString(CultureInfo.InvariantCulture)}");
        }

        if (spec.Mlock)
        {
            Line("LimitMEMLOCK=infinity");
        }

        return unit.ToString();
    }

    private static string Seconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    // '%' starts a specifier in unit files; a path is meant literally.
    private static string Escape(string path) => path.Replace("%", "%%", StringComparison.Ordinal);
}
