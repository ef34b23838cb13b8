using System.Text;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Tests.LoadBalancing;

public sealed class ServiceLoadBalancerPrefixAffinityTests
{
    private static readonly ServiceLoadBalancerOptions Options = new() { Policy = LoadBalancingPolicyNames.PrefixAffinity };

    [Fact]
    public async Task Proxy_PrefixAffinity_SamePromptPrefixSticksToOneReplica()
    {
        await using var harness = await BalancerHarness.StartAsync(3, Options);
        var seen = new HashSet<string>();
        for (var tenant = 0; tenant < 8; tenant++)
        {
            var system = $"tenant {tenant}: " + new string('p', 1500);
            var home = await ReplicaFor(harness, PrefixAffinityPolicyTests.Chat(system, "first question"));
            for (var turn = 0; turn < 4; turn++)
            {
                Assert.Equal(home, await ReplicaFor(harness, PrefixAffinityPolicyTests.Chat(system, $"question {turn}")));
            }

            seen.Add(home);
        }

        Assert.True(seen.Count > 1, "eight tenants all landed on one replica");
    }

    [Fact]
    public async Task Proxy_PrefixAffinity_HotPrefixSpreadsOnceTheBoundIsHit()
    {
        await using var harness = await BalancerHarness.StartAsync(3, Options);
        var body = PrefixAffinityPolicyTests.Chat(new string('h', 1500), "hot");
        var held = new List<Task<HttpResponseMessage>>();
        try
        {
            for (var i = 1; i <= 2; i++)
            {
                held.Add(harness.Client.PostAsync("/v1/hold", new StringContent(body, Encoding.UTF8, "application/json")));
                await TestWait.UntilAsync(() => harness.Upstreams.Sum(u => u.Held) == i, $"held request {i} to reach a replica");
            }

            // With one request held the bound is ceil(1.25 x 2 / 3) = 1: the home replica is full, the second goes on.
            Assert.Equal(2, harness.Upstreams.Count(u => u.Held == 1));

            // Once they finish, the prefix is back on one replica.
            foreach (var upstream in harness.Upstreams)
            {
                upstream.Release();
            }

            foreach (var response in await Task.WhenAll(held).WaitAsync(TestWait.Timeout))
            {
                response.Dispose();
            }

            held.Clear();
            await TestWait.UntilAsync(() => harness.Balancer.GetInFlight().Values.All(v => v == 0), "the held requests to finish");
            var replicas = new HashSet<string>();
            for (var i = 0; i < 3; i++)
            {
                replicas.Add(await ReplicaFor(harness, body));
            }

            Assert.Single(replicas);
        }
        finally
        {
            foreach (var upstream in harness.Upstreams)
            {
                upstream.Release();
            }

            foreach (var response in await Task.WhenAll(held).WaitAsync(TestWait.Timeout))
            {
                response.Dispose();
            }
        }
    }

    private static async Task<string> ReplicaFor(BalancerHarness harness, string body)
    {
        var (status, text) = await harness.EchoAsync(body);
        Assert.Equal(200, status);
        return text.Split(':')[0];
    }
}
