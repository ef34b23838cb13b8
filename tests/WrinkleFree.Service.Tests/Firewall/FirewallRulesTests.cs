using WrinkleFree.Service.Firewall;
using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Firewall;

/// <summary>
/// The nftables rules `wf export firewall` writes: the edge's published ranges with their date, the ports the spec uses,
/// errors that name what is wrong, and a script that nft itself accepts (<c>nft -c</c>, which checks without applying).
/// </summary>
public sealed class FirewallRulesTests
{
    private static readonly DateTimeOffset Generated = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Cloudflare_PublishedListWithItsDate_V4AndV6()
    {
        var (recorded, networks) = EdgeRanges.Published("cloudflare");

        Assert.Equal("2026-12-05", recorded);
        Assert.Equal(15, networks.Count(n => n.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork));
        Assert.Equal(7, networks.Count(n => n.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6));
        Assert.Contains(System.Net.IPNetwork.Parse("173.245.48.0/20"), networks);
        Assert.Contains(System.Net.IPNetwork.Parse("2606:4700::/32"), networks);
    }

    [Fact]
    public void Render_EndpointFromEdgeOnly_ReplicasFromBalancerOnly_OtherPortsUntouched()
    {
        var plan = FirewallTestSpecs.Plan(FirewallTestSpecs.Open(8443, 8080), ["cloudflare", "203.0.113.7"], ["10.0.0.0/8", "10.1.0.0/16"]);

        var rules = NftablesRules.Render(plan, Generated);

        Assert.Equal("wrinklefree_edge_svc", plan.Table);
        Assert.Contains("table inet wrinklefree_edge_svc\ndelete table inet wrinklefree_edge_svc\ntable inet wrinklefree_edge_svc {", rules, StringComparison.Ordinal);
        Assert.Contains("173.245.48.0/20", rules, StringComparison.Ordinal);
        Assert.Contains("203.0.113.7/32 }", rules, StringComparison.Ordinal);
        Assert.Contains("2400:cb00::/32", rules, StringComparison.Ordinal);
        Assert.Contains("tcp dport 8443 ip saddr @edge_v4 accept\n\t\ttcp dport 8443 ip6 saddr @edge_v6 accept\n\t\ttcp dport 8443 counter drop", rules, StringComparison.Ordinal);
        Assert.Contains("tcp dport 8080 ip saddr @balancer_v4 accept", rules, StringComparison.Ordinal);
        Assert.Contains("elements = { 10.0.0.0/8, 10.1.0.0/16 }", rules, StringComparison.Ordinal);
        Assert.Contains("policy accept;", rules, StringComparison.Ordinal);
        Assert.Contains("cloudflare (published list, recorded 2026-12-05)", rules, StringComparison.Ordinal);
        Assert.Empty(plan.Notes);
        // Only the service's two ports are ever dropped.
        Assert.Equal(2, rules.Split('\n').Count(l => l.Contains("counter drop", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Render_NftChecksTheScript_AndMergesOverlappingRanges()
    {
        using var dir = new TempDirectory();
        var plan = FirewallTestSpecs.Plan(FirewallTestSpecs.Open(8443, 8080), ["cloudflare", "2001:db8::/32"], ["10.0.0.0/8", "10.1.0.0/16", "fd00::1"]);
        var file = Path.Combine(dir.Path, "rules.nft");
        await File.WriteAllTextAsync(file, NftablesRules.Render(plan, Generated));

        // -c: the kernel checks the whole transaction and applies nothing.
        await NetworkNamespace.RunAsync("nft", "-c", "-f", file);
    }

    [Fact]
    public void Plan_NoFixedReplicaPort_NoReplicaRule_AndSaysWhy()
    {
        var plan = FirewallTestSpecs.Plan(FirewallTestSpecs.Open(8443, null), ["cloudflare"], []);

        var rules = NftablesRules.Render(plan, Generated);

        Assert.Null(plan.ReplicaPort);
        Assert.DoesNotContain("balancer", rules, StringComparison.Ordinal);
        Assert.Contains(plan.Notes, n => n.Contains("free ports on 127.0.0.1", StringComparison.Ordinal));
    }

    [Fact]
    public void Plan_EndpointOnLoopback_NotesTheEdgeCannotReachIt()
    {
        const string yaml = "service:\n  replicas: 1\n  load_balancer:\n    port: 8443\n";

        var plan = FirewallTestSpecs.Plan(yaml, ["cloudflare"], []);

        Assert.Equal("127.0.0.1", plan.EndpointHost);
        Assert.Contains(plan.Notes, n => n.Contains("set service.load_balancer.host: 0.0.0.0", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("10.0.0.1/8", "'10.0.0.1/8' has bits set past its prefix: write 10.0.0.0/8 for the whole network or 10.0.0.1/32 for the one address")]
    [InlineData("cloudflar", "'cloudflar' is not an address, a CIDR (203.0.113.0/24, 2001:db8::/32), @FILE or a known edge (cloudflare)")]
    [InlineData("300.1.1.1", "'300.1.1.1' is not an address")]
    [InlineData("@/nonexistent/edge.txt", "--allow @/nonexistent/edge.txt: file '/nonexistent/edge.txt' does not exist")]
    public void Allow_Invalid_ErrorNamesTheEntry(string entry, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => EdgeRanges.Parse([entry], "--allow"));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Allow_File_OneRangePerLine_CommentsAndLineNumbersInErrors()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "edge.txt");
        await File.WriteAllTextAsync(file, "# refreshed today\n198.51.100.0/24\n\n2001:db8::/32 # v6\nnot-a-range\n");

        var e = Assert.Throws<ArgumentException>(() => EdgeRanges.Parse(["@" + file], "--allow"));
        Assert.Contains("line 5: 'not-a-range' is not an address", e.Message, StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, "# refreshed today\n198.51.100.0/24\n\n2001:db8::/32 # v6\n");
        var ranges = EdgeRanges.Parse(["@" + file], "--allow");
        Assert.Equal(["198.51.100.0/24"], ranges.V4.Select(n => n.ToString()));
        Assert.Equal(["2001:db8::/32"], ranges.V6.Select(n => n.ToString()));
    }

    [Fact]
    public void Plan_NoEndpointPort_ErrorSaysWhereToSetIt()
    {
        var e = Assert.Throws<ArgumentException>(() => FirewallTestSpecs.Plan("service:\n  replicas: 1\n", ["cloudflare"], []));

        Assert.Contains("set service.load_balancer.port (and host: 0.0.0.0) in the spec, or pass --endpoint-port N", e.Message, StringComparison.Ordinal);
        Assert.Equal(9000, FirewallTestSpecs.Plan("service:\n  replicas: 1\n", ["cloudflare"], [], endpointPort: 9000).EndpointPort);
    }

    [Fact]
    public void Plan_Contradictions_AreErrors()
    {
        Assert.Contains("contradicts the spec's service.load_balancer.port: 8443",
            Assert.Throws<ArgumentException>(() => FirewallTestSpecs.Plan(FirewallTestSpecs.Open(8443, 8080), ["cloudflare"], [], endpointPort: 9000)).Message, StringComparison.Ordinal);
        Assert.Contains("the endpoint and the replicas both use port 8080",
            Assert.Throws<ArgumentException>(() => FirewallTestSpecs.Plan(FirewallTestSpecs.Open(8080, 8080), ["cloudflare"], [])).Message, StringComparison.Ordinal);
        Assert.Contains("--allow names no address",
            Assert.Throws<ArgumentException>(() => FirewallTestSpecs.Plan(FirewallTestSpecs.Open(8443, 8080), [], [])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Spec_LoadBalancerHostNotAnAddress_ErrorNamesKey()
    {
        var e = Assert.Throws<ServiceSpecException>(() => ServiceSpecParser.Parse("service:\n  replicas: 1\n  load_balancer:\n    host: example.com\n"));

        Assert.Contains("service.load_balancer.host", e.Message, StringComparison.Ordinal);
        Assert.Contains("'example.com' is not an IP address", e.Message, StringComparison.Ordinal);
    }
}
