using System.Globalization;
using System.Net;
using System.Text;

namespace WrinkleFree.Service.Firewall;

/// <summary>
/// Writes a <see cref="FirewallPlan"/> as an nftables script (<c>nft -f</c>): one table per service that only drops
/// traffic to the service's ports from addresses outside the allowed sets, applied atomically and re-appliable.
/// </summary>
public static class NftablesRules
{
    /// <summary>The script, with comments saying where each set came from and how to remove the table.</summary>
    public static string Render(FirewallPlan plan, DateTimeOffset generated)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var s = new StringBuilder();
        var table = plan.Table;
        Line(s, "#!/usr/sbin/nft -f");
        Line(s, $"# WrinkleFree firewall for service {plan.Service} (wf export firewall), generated {generated.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}.");
        Line(s, $"# Endpoint {plan.EndpointHost}:{plan.EndpointPort}/tcp: only from {string.Join(", ", plan.Edge.Sources)} and this machine.");
        if (plan.ReplicaPort is { } replica)
        {
            var from = plan.Balancers.IsEmpty ? "this machine" : string.Join(", ", plan.Balancers.Sources) + " and this machine";
            Line(s, $"# Replicas :{replica}/tcp: only from {from}.");
        }

        foreach (var note in plan.Notes)
            Line(s, $"# Note: {note}.");
        Line(s, "# Traffic to any other port is left to the machine's other rules: this table only ever drops.");
        Line(s, $"# Apply: sudo nft -f FILE   Check: sudo nft -c -f FILE   Remove: sudo nft delete table inet {table}");
        // Declaring then deleting the table makes the file re-appliable: the whole file is one transaction, so the old
        // rules are replaced by the new ones with no moment unprotected.
        Line(s, $"table inet {table}");
        Line(s, $"delete table inet {table}");
        Line(s, $"table inet {table} {{");
        Set(s, "edge_v4", "ipv4_addr", plan.Edge.V4);
        Set(s, "edge_v6", "ipv6_addr", plan.Edge.V6);
        if (plan.ReplicaPort is not null)
        {
            Set(s, "balancer_v4", "ipv4_addr", plan.Balancers.V4);
            Set(s, "balancer_v6", "ipv6_addr", plan.Balancers.V6);
        }

        Line(s, "\tchain input {");
        // Before the usual filter chains, so the drop holds whatever else accepts; accepting here does not override
        // a drop elsewhere, since every base chain on the hook must accept a packet.
        Line(s, "\t\ttype filter hook input priority filter - 10; policy accept;");
        Line(s, "\t\tiif \"lo\" accept");
        Line(s, "\t\tct state established,related accept");
        Allow(s, plan.EndpointPort, "edge", "endpoint: not from the edge");
        if (plan.ReplicaPort is { } port)
            Allow(s, port, "balancer", "replica: not from the load balancer");
        Line(s, "\t}");
        Line(s, "}");
        return s.ToString();
    }

    private static void Allow(StringBuilder s, int port, string set, string comment)
    {
        var p = port.ToString(CultureInfo.InvariantCulture);
        Line(s, $"\t\ttcp dport {p} ip saddr @{set}_v4 accept");
        Line(s, $"\t\ttcp dport {p} ip6 saddr @{set}_v6 accept");
        Line(s, $"\t\ttcp dport {p} counter drop comment \"{comment}\"");
    }

    private static void Set(StringBuilder s, string name, string type, IReadOnlyList<IPNetwork> networks)
    {
        // auto-merge: overlapping ranges (10.0.0.0/8 and 10.1.0.0/16) are merged instead of refused.
        Line(s, $"\tset {name} {{");
        Line(s, $"\t\ttype {type}; flags interval; auto-merge;");
        if (networks.Count > 0)
            Line(s, $"\t\telements = {{ {string.Join(", ", networks.Select(n => n.ToString()))} }}");
        Line(s, "\t}");
    }

    private static void Line(StringBuilder s, string text) => s.Append(text).Append('\n');
}
