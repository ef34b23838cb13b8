using System.Net;
using System.Text.Json;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Tests.LoadBalancing;

public sealed class ServiceLoadBalancerRoutingTests
{
    [Fact]
    public async Task Proxy_NoReplicas_Returns503WithRetryAfterAndOpenAiError()
    {
        await using var harness = await BalancerHarness.StartAsync(0);

        using var response = await harness.Client.PostAsync("/v1/chat/completions", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error");
        Assert.Equal("no_ready_replicas", error.GetProperty("code").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Contains("No ready replicas", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
    }

    [Fact]
    public async Task Proxy_LeastRequests_PrefersTheIdleReplica()
    {
        await using var harness = await BalancerHarness.StartAsync(2);
        var held = harness.Client.PostAsync("/v1/hold", new StringContent("{}"));
        await TestWait.UntilAsync(() => harness.Upstreams.Sum(u => u.Held) == 1, "the held request to reach a replica");
        var busy = harness.Upstreams.Single(u => u.Held == 1).Name;
        Assert.Equal(1, harness.Balancer.GetInFlight()[busy]);

        for (var i = 0; i < 6; i++)
        {
            Assert.NotEqual(busy, await harness.EchoReplicaAsync());
        }

        harness.Upstreams.Single(u => u.Name == busy).Release();
        using var response = await held.WaitAsync(TestWait.Timeout);
        Assert.Equal(busy, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Proxy_LeastRequestsWithEqualLoads_UsesEveryReplica()
    {
        await using var harness = await BalancerHarness.StartAsync(3);
        var seen = new HashSet<string>();
        for (var i = 0; i < 3; i++)
        {
            seen.Add(await harness.EchoReplicaAsync());
        }

        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public async Task Proxy_RoundRobin_CyclesThroughReplicasInOrder()
    {
        await using var harness = await BalancerHarness.StartAsync(3, new ServiceLoadBalancerOptions { Policy = LoadBalancingPolicyNames.RoundRobin });
        var picks = new List<string>();
        for (var i = 0; i < 9; i++)
        {
            picks.Add(await harness.EchoReplicaAsync());
        }

        Assert.Equal(["r0", "r1", "r2", "r0", "r1", "r2", "r0", "r1", "r2"], picks);
    }

    [Fact]
    public async Task Proxy_PowerOfTwo_AvoidsTheBusyReplica()
    {
        await using var harness = await BalancerHarness.StartAsync(2, new ServiceLoadBalancerOptions { Policy = LoadBalancingPolicyNames.PowerOfTwo });
        var held = harness.Client.PostAsync("/v1/hold", new StringContent("{}"));
        await TestWait.UntilAsync(() => harness.Upstreams.Sum(u => u.Held) == 1, "the held request to reach a replica");
        var busy = harness.Upstreams.Single(u => u.Held == 1).Name;

        for (var i = 0; i < 6; i++)
        {
            Assert.NotEqual(busy, await harness.EchoReplicaAsync());
        }

        harness.Upstreams.Single(u => u.Name == busy).Release();
        (await held.WaitAsync(TestWait.Timeout)).Dispose();
    }

    [Fact]
    public async Task UpdateReplicas_NewList_TakesEffectOnTheNextRequest()
    {
        await using var harness = await BalancerHarness.StartAsync(2, listReplicas: false);
        harness.Balancer.UpdateReplicas([harness.Upstreams[0].Endpoint()]);
        Assert.Equal("r0", await harness.EchoReplicaAsync());

        harness.Balancer.UpdateReplicas([harness.Upstreams[1].Endpoint()]);
        Assert.Equal("r1", await harness.EchoReplicaAsync());

        harness.Balancer.UpdateReplicas([harness.Upstreams[0].Endpoint(ready: false), harness.Upstreams[1].Endpoint()]);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("r1", await harness.EchoReplicaAsync());
        }

        harness.Balancer.UpdateReplicas([harness.Upstreams[0].Endpoint(ready: false)]);
        var (status, _) = await harness.EchoAsync("x");
        Assert.Equal(503, status);
    }

    [Fact]
    public async Task UpdateReplicas_DuplicateIdOrRelativeUrl_ThrowsAndKeepsThePreviousList()
    {
        await using var harness = await BalancerHarness.StartAsync(1);
        var ex = Assert.Throws<ArgumentException>(() => harness.Balancer.UpdateReplicas([new ReplicaEndpoint("other", harness.Upstreams[0].Url, true), harness.Upstreams[0].Endpoint(), harness.Upstreams[0].Endpoint()]));
        Assert.Contains("'r0' is listed twice", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => harness.Balancer.UpdateReplicas([new ReplicaEndpoint("rel", new Uri("/relative", UriKind.Relative), true)]));

        // The rejected lists changed nothing.
        Assert.Equal(["r0"], harness.Balancer.GetInFlight().Keys);
        Assert.Equal("r0", await harness.EchoReplicaAsync());
    }

    [Fact]
    public async Task GetInFlight_ReplicaRemovedWhileBusy_KeepsCountingUntilItsRequestEnds()
    {
        await using var harness = await BalancerHarness.StartAsync(1);
        var held = harness.Client.PostAsync("/v1/hold", new StringContent("{}"));
        await TestWait.UntilAsync(() => harness.Upstreams[0].Held == 1, "the held request to reach the replica");

        harness.Balancer.UpdateReplicas([]);
        Assert.Equal(1, harness.Balancer.GetInFlight()["r0"]);

        harness.Upstreams[0].Release();
        using var response = await held.WaitAsync(TestWait.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await TestWait.UntilAsync(() => !harness.Balancer.GetInFlight().ContainsKey("r0"), "the drained replica to leave the counts");
    }

    [Fact]
    public async Task Proxy_GetWithoutBody_ForwardsPathAndQuery()
    {
        await using var harness = await BalancerHarness.StartAsync(1);
        using var response = await harness.Client.GetAsync("/v1/unknown?x=1");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(1, harness.Upstreams[0].Served);
    }

    [Fact]
    public async Task Proxy_BodyOverTheLimit_Returns413WithoutForwarding()
    {
        await using var harness = await BalancerHarness.StartAsync(1, new ServiceLoadBalancerOptions { MaxRequestBodyBytes = 1024 });
        // Expect: 100-continue lets the client hold the body back, so the early 413 cannot race the upload.
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/echo") { Content = new StringContent(new string('a', 4096)) })
        {
            request.Headers.ExpectContinue = true;
            using var response = await harness.Client.SendAsync(request).WaitAsync(TestWait.Timeout);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Contains("close", response.Headers.Connection);
            Assert.Contains("request_too_large", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(0, harness.Upstreams[0].Served);

        var (okStatus, okText) = await harness.EchoAsync(new string('b', 1000));
        Assert.Equal(200, okStatus);
        Assert.Equal("r0:" + new string('b', 1000), okText);
    }

    [Fact]
    public async Task SetPolicy_SameName_KeepsThePolicyAndItsPosition()
    {
        await using var harness = await BalancerHarness.StartAsync(3, new ServiceLoadBalancerOptions { Policy = LoadBalancingPolicyNames.RoundRobin });
        Assert.Equal("r0", await harness.EchoReplicaAsync());

        harness.Balancer.SetPolicy(LoadBalancingPolicyNames.RoundRobin);

        // A fresh round robin would start over at r0.
        Assert.Equal("r1", await harness.EchoReplicaAsync());
        Assert.Equal(LoadBalancingPolicyNames.RoundRobin, harness.Balancer.Policy);
    }

    [Fact]
    public async Task SetPolicy_OtherName_NextRequestsUseItAndHealthSaysSo()
    {
        await using var harness = await BalancerHarness.StartAsync(2, new ServiceLoadBalancerOptions { Policy = LoadBalancingPolicyNames.RoundRobin });
        var held = harness.Client.PostAsync("/v1/hold", new StringContent("{}"));
        await TestWait.UntilAsync(() => harness.Upstreams.Sum(u => u.Held) == 1, "the held request to reach a replica");
        var busy = harness.Upstreams.Single(u => u.Held == 1).Name;
        // Round robin ignores load: the busy replica still gets its turn.
        Assert.Contains(busy, new[] { await harness.EchoReplicaAsync(), await harness.EchoReplicaAsync() });

        harness.Balancer.SetPolicy(LoadBalancingPolicyNames.LeastRequests);

        for (var i = 0; i < 4; i++)
        {
            Assert.NotEqual(busy, await harness.EchoReplicaAsync());
        }

        using (var health = await harness.Client.GetAsync("/health"))
        {
            using var json = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
            Assert.Equal(LoadBalancingPolicyNames.LeastRequests, json.RootElement.GetProperty("load_balancing_policy").GetString());
        }

        Assert.Throws<ArgumentException>(() => harness.Balancer.SetPolicy("fastest"));
        Assert.Equal(LoadBalancingPolicyNames.LeastRequests, harness.Balancer.Policy);
        harness.Upstreams.Single(u => u.Name == busy).Release();
        using var response = await held.WaitAsync(TestWait.Timeout);
        Assert.Equal(busy, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_ReadyReplicaOrNone_Answers200Or503()
    {
        await using var harness = await BalancerHarness.StartAsync(1, listReplicas: false);
        using (var none = await harness.Client.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, none.StatusCode);
        }

        harness.Balancer.UpdateReplicas([harness.Upstreams[0].Endpoint()]);
        using var ready = await harness.Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var json = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal(1, json.RootElement.GetProperty("ready_replicas").GetInt32());
        Assert.Equal(0, harness.Upstreams[0].Served);
    }

    [Fact]
    public async Task Proxy_PathOutsideV1_Returns404()
    {
        await using var harness = await BalancerHarness.StartAsync(1);
        using var response = await harness.Client.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, harness.Upstreams[0].Served);
    }

    [Fact]
    public async Task OnRequest_EachClientRequest_ReportedOnceWithTheClockTime()
    {
        await using var harness = await BalancerHarness.StartAsync(1);
        var seen = new List<DateTimeOffset>();
        harness.Balancer.OnRequest = t =>
        {
            lock (seen)
            {
                seen.Add(t);
            }
        };

        for (var i = 0; i < 3; i++)
        {
            await harness.EchoReplicaAsync();
        }

        Assert.Equal(3, seen.Count);
        Assert.All(seen, t => Assert.Equal(harness.Time.GetUtcNow(), t));
    }
}
