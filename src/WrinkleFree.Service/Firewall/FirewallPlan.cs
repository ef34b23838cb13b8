using System.Globalization;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Firewall;

/// <summary>
/// Who may reach which port of a machine serving a service: the endpoint only from the edge, the replicas' port only
/// from the load balancer, both always from the machine itself. Every other port is left as it is.
/// </summary>
public sealed record FirewallPlan
{
    /// <summary>The service the rules are for (it names the nftables table, so services do not overwrite each other).</summary>
    public required string Service { get; init; }

    /// <summary>The service endpoint's TCP port.</summary>
    public required int EndpointPort { get; init; }

    /// <summary>Address the endpoint listens on (127.0.0.1 when the spec does not open it).</summary>
    public required string EndpointHost { get; init; }

    /// <summary>Who may reach the endpoint: the edge's ranges.</summary>
    public required EdgeRanges Edge { get; init; }

    /// <summary>The replicas' TCP port when the spec fixes one; null when each replica gets a free port on loopback.</summary>
    public int? ReplicaPort { get; init; }

    /// <summary>Who may reach the replicas' port: the load balancer's addresses (empty: this machine only).</summary>
    public required EdgeRanges Balancers { get; init; }

    /// <summary>What the plan noticed that the user should know (an endpoint on loopback, replicas without a fixed port).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The nftables table name: <c>wrinklefree_</c> and the service name with anything but letters, digits and _ as _.</summary>
    public string Table => "wrinklefree_" + new string([.. Service.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_')]);

    /// <summary>
    /// The plan for <paramref name="plan"/>: the endpoint port from <c>service.load_balancer.port</c> or
    /// <paramref name="endpointPort"/>, the replicas' from the spec's ports. Throws <see cref="ArgumentException"/> naming
    /// what is missing or contradictory.
    /// </summary>
    public static FirewallPlan For(ServicePlan plan, EdgeRanges edge, EdgeRanges balancers, int? endpointPort)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(edge);
        ArgumentNullException.ThrowIfNull(balancers);
        if (edge.IsEmpty)
            throw new ArgumentException("--allow names no address: give the edge (cloudflare), CIDRs or @FILE; an endpoint no one may reach is not what you want");
        var lb = plan.Spec.Service.LoadBalancer;
        if (endpointPort is { } given && lb.Port is { } written && given != written)
            throw new ArgumentException($"--endpoint-port {given} contradicts the spec's service.load_balancer.port: {written}");
        var port = endpointPort ?? lb.Port
            ?? throw new ArgumentException("the endpoint's port is chosen at wf up unless the spec fixes it: set service.load_balancer.port (and host: 0.0.0.0) in the spec, or pass --endpoint-port N");
        if (port is < 1 or > 65535)
            throw new ArgumentException($"--endpoint-port {port} is not a port (1-65535)");
        var host = lb.Host ?? "127.0.0.1";
        var notes = new List<string>();
        if (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address))
            notes.Add($"the endpoint listens on {host}, which the edge cannot reach: set service.load_balancer.host: 0.0.0.0 (or this machine's public address) in the spec");
        var replicaPort = plan.Replica.PortHint;
        if (replicaPort == port)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the endpoint and the replicas both use port {port}: change service.load_balancer.port or service.ports"));
        if (replicaPort is null)
            notes.Add("the replicas get free ports on 127.0.0.1 (no fixed port in the spec), which nothing outside this machine reaches; no rule is needed for them");
        else if (balancers.IsEmpty)
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"replica port {replicaPort}: no --balancer given, so only this machine reaches it"));
        return new FirewallPlan
        {
            Service = plan.Name,
            EndpointPort = port,
            EndpointHost = host,
            Edge = edge,
            ReplicaPort = replicaPort,
            Balancers = balancers,
            Notes = notes,
        };
    }
}
