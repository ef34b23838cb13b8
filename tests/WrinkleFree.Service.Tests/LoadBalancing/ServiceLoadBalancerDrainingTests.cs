using System.Text.Json;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Tests.LoadBalancing;

/// <summary>
/// A replica that refuses with 503 "draining" (shut down or about to be preempted) before a byte reached the client:
/// the request is retried elsewhere, the replica is out of rotation at once and stays out until the controller lists it
/// as not ready; any other 503 passes through untouched.
/// </summary>
public sealed class ServiceLoadBalancerDrainingTests
{
    private static readonly ServiceLoadBalancerOptions RoundRobin = new() { Policy = LoadBalancingPolicyNames.RoundRobin };

    [Fact]
    public async Task Forward_ReplicaRefusesDraining_RetriedElsewhereAndReplicaGetsNoMoreRequests()
    {
        await using var harness = await BalancerHarness.StartAsync(2, RoundRobin);
        var (draining, other) = (harness.Upstreams[0], harness.Upstreams[1]);
        draining.Draining = true;

        for (var i = 0; i < 10; i++)
        {
            var (status, text) = await harness.EchoAsync($"m{i}");
            Assert.Equal(200, status);
            Assert.Equal($"r1:m{i}", text);
        }

        // Round robin reaches the draining replica within the first two requests; its one refusal took it out.
        Assert.Equal(1, draining.Served);
        Assert.Equal(10, other.Served);
    }

    [Fact]
    public async Task Forward_ControllerStillSaysReady_DrainingReplicaStaysOutUntilListedNotReady()
    {
        await using var harness = await BalancerHarness.StartAsync(2, RoundRobin);
        var (draining, other) = (harness.Upstreams[0], harness.Upstreams[1]);
        draining.Draining = true;
        await harness.EchoReplicaAsync();
        await harness.EchoReplicaAsync();
        Assert.Equal(1, draining.Served);

        // The controller's probe has not seen /health draining yet: it lists the replica ready again.
        harness.Balancer.UpdateReplicas([draining.Endpoint(), other.Endpoint()]);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("r1", await harness.EchoReplicaAsync());
        }

        Assert.Equal(1, draining.Served);

        // Not ready, then ready again (a replica that recovered): it is believed and takes requests.
        draining.Draining = false;
        harness.Balancer.UpdateReplicas([draining.Endpoint(ready: false), other.Endpoint()]);
        harness.Balancer.UpdateReplicas([draining.Endpoint(), other.Endpoint()]);
        var answered = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            answered.Add(await harness.EchoReplicaAsync());
        }

        Assert.Contains("r0", answered);
    }

    [Fact]
    public async Task Forward_EveryReplicaDraining_Answers503NoReadyReplicas()
    {
        await using var harness = await BalancerHarness.StartAsync(2, RoundRobin);
        harness.Upstreams[0].Draining = true;
        harness.Upstreams[1].Draining = true;

        using var content = new StringContent("x");
        using var response = await harness.Client.PostAsync(new Uri("/v1/echo", UriKind.Relative), content).WaitAsync(TestWait.Timeout);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(TestWait.Timeout)).RootElement;

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal("no_ready_replicas", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("draining", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal(1, harness.Upstreams[0].Served);
        Assert.Equal(1, harness.Upstreams[1].Served);
    }

    [Fact]
    public async Task Forward_ReplicaAnswersAnother503_PassesThroughAndKeepsTheReplica()
    {
        await using var harness = await BalancerHarness.StartAsync(1, RoundRobin);

        using var content = new StringContent("x");
        using var response = await harness.Client.PostAsync(new Uri("/v1/loading503", UriKind.Relative), content).WaitAsync(TestWait.Timeout);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(TestWait.Timeout)).RootElement;

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal("model_loading", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("the model is still loading; retry shortly", body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("r0", await harness.EchoReplicaAsync());
    }
}
