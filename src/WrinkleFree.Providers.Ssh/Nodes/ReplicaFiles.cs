using System.Globalization;
using System.Text;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>The files a replica's folder holds on the node: its run script, its environment (sh and systemd forms), its unit.</summary>
internal static class ReplicaFiles
{
    /// <summary>
    /// The script the unit or supervisor runs: the setup (if any) in a shell of its own, then <c>exec</c> of the command so
    /// the pid stays the replica's. A failing setup ends the run with the setup's exit code, said in the log.
    /// </summary>
    public static string RunScript(NodeReplicaSpec spec, string workingDirectory)
    {
        var script = new StringBuilder();
        script.Append(CultureInfo.InvariantCulture, $"# WrinkleFree replica {spec.ReplicaId} of {spec.Service}, version {spec.Version}\n");
        script.Append(CultureInfo.InvariantCulture, $"cd {ShellQuote.Quote(workingDirectory)} || exit 1\n");
        if (spec.Mlock)
        {
            // The unit lifts the limit itself (LimitMEMLOCK); under the supervisor only the shell can, within the hard limit.
            script.Append("ulimit -l unlimited 2>/dev/null || echo \"--- wf: could not lift the memlock limit (ulimit -l $(ulimit -l)); mlock may fail ---\"\n");
        }

        if (spec.Setup is { } setup)
        {
            script.Append("echo \"--- wf: running setup ---\"\n");
            script.Append(CultureInfo.InvariantCulture, $"/bin/sh -c {ShellQuote.Quote(setup)}\n");
            script.Append("code=$?\nif [ \"$code\" -ne 0 ]; then\n  echo \"--- wf: setup failed with exit code $code; the replica's command did not run ---\"\n  exit \"$code\"\nfi\n");
            script.Append("echo \"--- wf: setup done; starting the replica ---\"\n");
        }

        script.Append(spec.Run is { } run
            ? $"exec /bin/sh -c {ShellQuote.Quote(run)}\n"
            : "exec " + string.Join(' ', new[] { spec.Command! }.Concat(spec.Arguments).Select(ShellQuote.Quote)) + "\n");
        return script.ToString();
    }

    /// <summary>The environment as <c>export NAME='value'</c> lines for the supervisor's shell.</summary>
    public static string ShellEnvironment(NodeReplicaSpec spec) =>
        string.Concat(spec.Environment().OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"export {e.Key}={ShellQuote.Quote(e.Value)}\n"));

    /// <summary>The environment as a systemd <c>EnvironmentFile</c>: <c>NAME="value"</c> with <c>\ " $ `</c> escaped.</summary>
    public static string SystemdEnvironment(NodeReplicaSpec spec) =>
        string.Concat(spec.Environment().OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}=\"{EscapeDoubleQuoted(e.Value)}\"\n"));

    private static string EscapeDoubleQuoted(string value)
    {
        var escaped = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (c is '\\' or '"' or '$' or '`')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }
}
