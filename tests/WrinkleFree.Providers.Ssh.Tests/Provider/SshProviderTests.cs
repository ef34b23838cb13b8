using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;
using WrinkleFree.Testing.Ssh;

namespace WrinkleFree.Providers.Ssh.Tests.Provider;

/// <summary>
/// The ssh provider against real sshd nodes: placement by room, replicas that answer on the nodes' addresses, a node that
/// goes away and comes back, and adoption by a restarted daemon.
/// </summary>
public sealed class SshProviderTests
{
    private static readonly ResourcesSpec Resources = new();
    private static CancellationToken Ct => new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;

    [SshdFact]
    public async Task Launch_OnePerNodeOnTheNodesAddress_IdempotentAndNoRoomBeyond()
    {
        await using var pool = await SshPoolFixture.StartAsync(nodes: 2);
        var provider = pool.NewProvider();

        var capacity = await provider.CheckTierAsync(SshPoolFixture.Tier, Resources, "tiers[0].settings", Ct);
        var first = await provider.LaunchAsync(SshPoolFixture.Request(1), Ct);
        var second = await provider.LaunchAsync(SshPoolFixture.Request(2), Ct);
        var again = await provider.LaunchAsync(SshPoolFixture.Request(1), Ct);
        var full = await Assert.ThrowsAsync<InvalidOperationException>(() => provider.LaunchAsync(SshPoolFixture.Request(3), Ct));

        Assert.Equal(new TierCapacity(2, "pool metal: 2 of 2 nodes answer, 1 replica each"), capacity);
        Assert.Equal(pool.Nodes.Select(n => n.Address.ToString()).Order(), new[] { first.Host!, second.Host! }.Order());
        Assert.Equal(first, again);
        Assert.Contains("no node of pool 'metal' has room", full.Message, StringComparison.Ordinal);
        foreach (var handle in new[] { first, second })
        {
            Assert.StartsWith($"http://{handle.Host}:8080", handle.EndpointUrl, StringComparison.Ordinal);
            await AnswersAsync(handle);
            Assert.Equal(ProviderReplicaState.Running, (await provider.GetStatusAsync(handle, Ct)).State);
        }

        await provider.StopAsync(first, TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(ProviderReplicaState.Exited, (await provider.GetStatusAsync(first, Ct)).State);
        var lines = new List<string>();
        await foreach (var line in provider.GetLogsAsync(second, tail: 50, follow: false, Ct))
            lines.Add(line);
        Assert.Contains(lines, l => l.Contains("replica 2 of svc", StringComparison.Ordinal));
    }

    [SshdFact]
    public async Task BehindABastion_ReplicaReachedThroughAForwardedPort_OrOnItsPrivateAddressWhenTheBalancerIsInside()
    {
        await using var pool = await SshPoolFixture.StartBehindBastionAsync(nodes: 2);
        // Through the jump a connection is two SSH handshakes: on a loaded 2-core CI machine that overran 2 s once
        // ("no SSH answer within 2 s"), so this test allows 8.
        var provider = pool.NewProvider(connectTimeout: TimeSpan.FromSeconds(8));
        var capacity = await provider.CheckTierAsync(SshPoolFixture.Tier, Resources, "tiers[0].settings", Ct);
        Assert.Equal(2, capacity.Replicas);

        // The balancer outside the private network: a loopback port forwarded over the SSH connection (through the jump).
        var outside = await provider.LaunchAsync(SshPoolFixture.Request(1), Ct);
        Assert.StartsWith("http://127.0.0.1:", outside.EndpointUrl, StringComparison.Ordinal);
        Assert.Contains(outside.Host, pool.Nodes.Select(n => n.Address.ToString()));
        await AnswersAsync(outside);
        Assert.Equal(ProviderReplicaState.Running, (await provider.GetStatusAsync(outside, Ct)).State);

        // private_network: true, the layout where the balancer runs inside: the node's own private address.
        var inside = await provider.LaunchAsync(SshPoolFixture.Request(2) with
        {
            TierSettings = new Dictionary<string, object?> { ["pool"] = SshPoolFixture.Pool, ["private_network"] = true },
        }, Ct);
        Assert.StartsWith($"http://{inside.Host}:8080", inside.EndpointUrl, StringComparison.Ordinal);
        Assert.NotEqual(outside.Host, inside.Host);
        Assert.Equal(ProviderReplicaState.Running, (await provider.GetStatusAsync(inside, Ct)).State);

        await provider.StopAsync(outside, TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(ProviderReplicaState.Exited, (await provider.GetStatusAsync(outside, Ct)).State);
    }

    [SshdFact]
    public async Task NodeAway_CapacityLeavesAndAStopWaits_NodeBack_TheReplacedReplicaIsStopped()
    {
        await using var pool = await SshPoolFixture.StartAsync(nodes: 2);
        var provider = pool.NewProvider();
        await provider.CheckTierAsync(SshPoolFixture.Tier, Resources, "tiers[0].settings", Ct);
        var a = await provider.LaunchAsync(SshPoolFixture.Request(1), Ct);
        var node = pool.Nodes.Single(n => n.Address.ToString() == a.Host);
        await AnswersAsync(a);

        await node.LinkDownAsync();
        await WaitAsync(() => provider.KnownCapacity(SshPoolFixture.Tier, Resources)?.Replicas == 1, "the lost node's room to leave the plan");
        Assert.Equal(ProviderReplicaState.Unknown, (await provider.GetStatusAsync(a, Ct)).State);
        // The controller replaces it: the stop cannot reach the node and is kept; the replacement goes to the other node.
        await provider.StopAsync(a, TimeSpan.FromSeconds(5), Ct);
        var b = await provider.LaunchAsync(SshPoolFixture.Request(2), Ct);
        Assert.NotEqual(a.Host, b.Host);
        Assert.True(File.Exists(Path.Combine(pool.Home, "ssh", "pending-stops.json")));

        await node.LinkUpAsync();
        await WaitAsync(() => provider.KnownCapacity(SshPoolFixture.Tier, Resources)?.Replicas == 2, "the node to be back in the plan");
        await WaitAsync(() => !File.ReadAllText(Path.Combine(pool.Home, "ssh", "pending-stops.json")).Contains("\"replica_id\": 1", StringComparison.Ordinal), "the owed stop to be carried out");
        Assert.Equal(ProviderReplicaState.Exited, (await pool.NewProvider().GetStatusAsync(a, Ct)).State);
        await AnswersAsync(b);
    }

    [SshdFact]
    public async Task Adopt_ARestartedDaemonAdoptsTheSameProcessOnly_AndANodeThatIsAwayIsNotAdopted()
    {
        await using var pool = await SshPoolFixture.StartAsync(nodes: 2);
        var first = pool.NewProvider();
        var a = await first.LaunchAsync(SshPoolFixture.Request(1), Ct);
        var b = await first.LaunchAsync(SshPoolFixture.Request(2), Ct);
        await first.DisposeAsync();

        var restarted = pool.NewProvider();
        Assert.True(await restarted.AdoptAsync(a, Ct));
        Assert.False(await restarted.AdoptAsync(a with { ProcessStartTime = a.ProcessStartTime + 1 }, Ct));
        await pool.Nodes.Single(n => n.Address.ToString() == b.Host).LinkDownAsync();
        Assert.False(await restarted.AdoptAsync(b, Ct));
        Assert.Contains("\"replica_id\": 2", File.ReadAllText(Path.Combine(pool.Home, "ssh", "pending-stops.json")), StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task CheckTier_UnknownPoolUnknownSettingOrNodeAway_ErrorsNameThePoolAndTheHost()
    {
        await using var pool = await SshPoolFixture.StartAsync(nodes: 2);
        var provider = pool.NewProvider();
        await pool.Nodes[1].KillSshdAsync();

        var unknown = await Assert.ThrowsAsync<ServiceSpecException>(() => provider.CheckTierAsync(
            SshPoolFixture.Tier with { Settings = new Dictionary<string, object?> { ["pool"] = "nope" } }, Resources, "tiers[0].settings", Ct));
        var typo = await Assert.ThrowsAsync<ServiceSpecException>(() => provider.CheckTierAsync(
            SshPoolFixture.Tier with { Settings = new Dictionary<string, object?> { ["pool"] = SshPoolFixture.Pool, ["pol"] = "x" } }, Resources, "tiers[0].settings", Ct));
        var away = await Assert.ThrowsAsync<ServiceSpecException>(() => provider.CheckTierAsync(SshPoolFixture.Tier, Resources, "tiers[0].settings", Ct));

        Assert.Contains("nope", unknown.Message, StringComparison.Ordinal);
        Assert.Contains(SshPoolFixture.Pool, unknown.Message, StringComparison.Ordinal);
        Assert.Equal("tiers[0].settings.pol", typo.KeyPath);
        Assert.Equal("tiers[0].settings.pool", away.KeyPath);
        Assert.Contains(pool.Nodes[1].Address.ToString(), away.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(pool.Nodes[0].Address + ":", away.Message, StringComparison.Ordinal);
    }

    private static async Task AnswersAsync(ReplicaHandle handle)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await WaitAsync(async () =>
        {
            try
            {
                using var response = await http.GetAsync(new Uri(new Uri(handle.EndpointUrl), "/health"));
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        }, $"replica {handle.ReplicaId} to answer at {handle.EndpointUrl}");
    }

    private static Task WaitAsync(Func<bool> condition, string what) => WaitAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(100);
        }
    }
}
