using System.Net;
using System.Text.Json;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Tests.LoadBalancing;

public sealed class ServiceLoadBalancerScaleFromZeroTests
{
    [Fact]
    public async Task Proxy_ScalingUpAndReplicaAppearsWithinBound_RequestWaitsAndSucceeds()
    {
        await using var harness = await BalancerHarness.StartAsync(1, listReplicas: false);
        harness.Balancer.ScalingUp = true;

        var pending = harness.EchoAsync("first");
        await TestWait.UntilAsync(() => harness.Balancer.WaitingRequests == 1, "the request to wait for a replica");
        harness.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(pending.IsCompleted);

        harness.Balancer.UpdateReplicas([harness.Upstreams[0].Endpoint()]);
        var (status, text) = await pending.WaitAsync(TestWait.Timeout);

        Assert.Equal(200, status);
        Assert.Equal("r0:first", text);
        Assert.Equal(0, harness.Balancer.WaitingRequests);
    }

    [Fact]
    public async Task Proxy_ScalingUpAndNoReplicaWithinBound_Returns503()
    {
        await using var harness = await BalancerHarness.StartAsync(1, listReplicas: false);
        harness.Balancer.ScalingUp = true;

        var pending = harness.EchoAsync("first");
        await TestWait.UntilAsync(() => harness.Balancer.WaitingRequests == 1, "the request to wait for a replica");
        // A not-ready replica appearing wakes the waiter, which finds nothing routable and keeps waiting.
        harness.Balancer.UpdateReplicas([harness.Upstreams[0].Endpoint(ready: false)]);
        await TestWait.UntilAsync(() => harness.Balancer.WaitingRequests == 1, "the request to wait again");
        // The woken waiter computes the time left, then arms a new timer: an advance that lands between the two would leave
        // that timer its whole span again (seen once on a loaded machine). Advancing until the answer comes covers it.
        var deadline = DateTime.UtcNow + TestWait.Timeout;
        while (!pending.IsCompleted && DateTime.UtcNow < deadline)
        {
            harness.Time.Advance(TimeSpan.FromSeconds(61));
            await Task.WhenAny(pending, Task.Delay(50));
        }

        var (status, text) = await pending.WaitAsync(TestWait.Timeout);

        Assert.Equal(503, status);
        using var json = JsonDocument.Parse(text);
        Assert.Equal("no_ready_replicas", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(0, harness.Upstreams[0].Served);
    }

    [Fact]
    public async Task Reconfigure_ShorterScaleFromZeroWait_NextRequestGives503AtTheNewBound()
    {
        await using var harness = await BalancerHarness.StartAsync(1, listReplicas: false);
        harness.Balancer.Reconfigure(new ServiceLoadBalancerOptions { ScaleFromZeroWait = TimeSpan.FromSeconds(5), Policy = LoadBalancingPolicyNames.RoundRobin });
        harness.Balancer.ScalingUp = true;

        var pending = harness.EchoAsync("first");
        await TestWait.UntilAsync(() => harness.Balancer.WaitingRequests == 1, "the request to wait for a replica");
        harness.Time.Advance(TimeSpan.FromSeconds(6));
        var (status, _) = await pending.WaitAsync(TestWait.Timeout);

        Assert.Equal(503, status);
        Assert.Equal(LoadBalancingPolicyNames.RoundRobin, harness.Balancer.Policy);
    }

    [Fact]
    public async Task Reconfigure_SettingFixedAtStart_ThrowsAndChangesNothing()
    {
        await using var harness = await BalancerHarness.StartAsync(1);
        var error = Assert.Throws<ArgumentException>(() => harness.Balancer.Reconfigure(new ServiceLoadBalancerOptions
        {
            Policy = LoadBalancingPolicyNames.RoundRobin,
            MaxRequestBodyBytes = 1024,
        }));

        Assert.Contains("MaxRequestBodyBytes is fixed", error.Message, StringComparison.Ordinal);
        Assert.Equal(LoadBalancingPolicyNames.LeastRequests, harness.Balancer.Policy);
    }

    [Fact]
    public async Task Proxy_NotScalingUp_Returns503AtOnce()
    {
        await using var harness = await BalancerHarness.StartAsync(1, listReplicas: false);
        using var response = await harness.Client.PostAsync("/v1/echo", new StringContent("x")).WaitAsync(TestWait.Timeout);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task Proxy_ScalingUpCleared_WaitingRequestAnswers503()
    {
        await using var harness = await BalancerHarness.StartAsync(1, listReplicas: false);
        harness.Balancer.ScalingUp = true;
        var pending = harness.EchoAsync("first");
        await TestWait.UntilAsync(() => harness.Balancer.WaitingRequests == 1, "the request to wait for a replica");

        harness.Balancer.ScalingUp = false;
        var (status, _) = await pending.WaitAsync(TestWait.Timeout);
        Assert.Equal(503, status);
    }
}
