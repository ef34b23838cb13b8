using System.Globalization;
using WrinkleFree.Providers.Ssh.Sessions;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>
/// Picks a port for a new replica on a node: not listening there (TCP, IPv4 or IPv6, from /proc/net) and not recorded by
/// another replica of ours (which may not have bound it yet), nor in the caller's own recently handed-out set.
/// </summary>
public static class NodePorts
{
    /// <summary>The first port tried when there is no usable hint.</summary>
    public const int RangeStart = 20000;

    /// <summary>The last port tried.</summary>
    public const int RangeEnd = 29999;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <paramref name="hint"/> when it is free on the node, else the lowest free port of <see cref="RangeStart"/>..<see cref="RangeEnd"/>;
    /// throws <see cref="SshNodeException"/> when none is.
    /// </summary>
    public static async Task<int> PickAsync(ISshSession session, NodeLayout layout, int? hint, IReadOnlySet<int>? taken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(layout);
        var result = await session.RunAsync(
            $"cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; echo wf-ports; for f in {ShellQuote.Quote(layout.Replicas)}/*/port; do [ -f \"$f\" ] && {{ cat \"$f\"; echo; }}; done; true",
            Timeout, cancellationToken).ConfigureAwait(false);
        var used = Used(result.Stdout);
        if (taken is not null)
        {
            used.UnionWith(taken);
        }

        if (hint is > 0 and <= 65535 && !used.Contains(hint.Value))
        {
            return hint.Value;
        }

        for (var port = RangeStart; port <= RangeEnd; port++)
        {
            if (!used.Contains(port))
            {
                return port;
            }
        }

        throw new SshNodeException(session.Node, $"no free port in {RangeStart}-{RangeEnd}; stop replicas or services listening there");
    }

    /// <summary>Listening ports in /proc/net/tcp form, then (after a <c>wf-ports</c> line) one recorded port per line.</summary>
    internal static HashSet<int> Used(string stdout)
    {
        var used = new HashSet<int>();
        var recorded = false;
        foreach (var line in stdout.Split('\n'))
        {
            var text = line.Trim();
            if (text == "wf-ports")
            {
                recorded = true;
            }
            else if (recorded)
            {
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
                {
                    used.Add(port);
                }
            }
            else if (text.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var local, _, "0A", ..]
                && int.TryParse(local.AsSpan(local.LastIndexOf(':') + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var listening))
            {
                used.Add(listening);
            }
        }

        return used;
    }
}
