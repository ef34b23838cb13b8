using System.Net;
using System.Net.Sockets;
using WrinkleFree.Service.Firewall;
using WrinkleFree.Service.Tests.Providers;
using WrinkleFree.Service.Tests.State;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Firewall;

/// <summary>
/// The rules `wf export firewall` writes, applied with the real nft in a network namespace made for the test, with real
/// HTTP servers behind them: the endpoint answers the allowed edge address and not another, the replicas' port answers
/// the load balancer's address and not the edge's, an unrelated port answers everyone, and applying the file again
/// replaces the rules (the file is re-appliable) rather than failing or stacking them.
/// </summary>
public sealed class FirewallNamespaceTests
{
    private const int EndpointPort = 8443;
    private const int ReplicaPort = 8080;
    private const int OtherPort = 9000;

    [Fact]
    public async Task AppliedInNamespace_EdgeReachesEndpointOnly_BalancerReachesReplicasOnly_OtherPortsOpen()
    {
        await using var ns = await NetworkNamespace.CreateAsync(extraHostAddresses: 1);
        var (edge, balancer) = (ns.HostAddress, ns.Address(3));
        foreach (var port in (int[])[EndpointPort, ReplicaPort, OtherPort])
        {
            await ns.StartAsync("fake upstream listening", ProviderTestSupport.Deadline,
                ChildProcessEntry.Dotnet, ProviderTestSupport.FakeDll, "--host", "0.0.0.0", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        // Before any rule: everyone reaches every port.
        Assert.True(await ReachesAsync(balancer, ns.NamespaceAddress, EndpointPort));

        var plan = FirewallTestSpecs.Plan(FirewallTestSpecs.Open(EndpointPort, ReplicaPort), ["cloudflare", edge + "/32"], [balancer.ToString()]);
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "rules.nft");
        await File.WriteAllTextAsync(file, NftablesRules.Render(plan, DateTimeOffset.UtcNow));
        for (var applied = 1; applied <= 2; applied++)
        {
            await ns.ExecAsync("nft", "-f", file);

            Assert.True(await ReachesAsync(edge, ns.NamespaceAddress, EndpointPort), $"edge -> endpoint (applied {applied}x)");
            Assert.False(await ReachesAsync(balancer, ns.NamespaceAddress, EndpointPort), $"not the edge -> endpoint (applied {applied}x)");
            Assert.True(await ReachesAsync(balancer, ns.NamespaceAddress, ReplicaPort), $"balancer -> replica (applied {applied}x)");
            Assert.False(await ReachesAsync(edge, ns.NamespaceAddress, ReplicaPort), $"edge -> replica (applied {applied}x)");
            Assert.True(await ReachesAsync(edge, ns.NamespaceAddress, OtherPort), $"edge -> other port (applied {applied}x)");
            Assert.True(await ReachesAsync(balancer, ns.NamespaceAddress, OtherPort), $"balancer -> other port (applied {applied}x)");
        }

        // One table, not two: the second application replaced the first.
        var tables = await ns.ExecAsync("nft", "list", "tables");
        Assert.Single(tables.Split('\n'), l => l.Contains(plan.Table, StringComparison.Ordinal));
        // Removing the table as the file's header says opens the ports again.
        await ns.ExecAsync("nft", "delete", "table", "inet", plan.Table);
        Assert.True(await ReachesAsync(balancer, ns.NamespaceAddress, EndpointPort));
    }

    /// <summary>Whether GET /health from <paramref name="source"/> gets an answer; a dropped SYN shows as a connect timeout.</summary>
    private static async Task<bool> ReachesAsync(IPAddress source, IPAddress server, int port)
    {
        using var client = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(2),
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        }) { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var response = await client.GetAsync(new Uri($"http://{server}:{port}/health"));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
