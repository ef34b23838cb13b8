using System.Net;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.LoadBalancing;

public sealed class ServiceLoadBalancerFailureTests
{
    [Fact]
    public async Task Proxy_ReplicaKilledUnderConcurrentLoad_NoClientRequestFails()
    {
        await using var harness = await BalancerHarness.StartAsync(3);
        const int workers = 16;
        const int perWorker = 40;
        var completed = 0;
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var failures = new List<string>();

        var load = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < perWorker; i++)
            {
                var body = $"req-{w}-{i}";
                var (status, text) = await harness.EchoAsync(body, delayMs: 2);
                if (status != 200 || !text.EndsWith(":" + body, StringComparison.Ordinal))
                {
                    lock (failures)
                    {
                        failures.Add($"{status} {text}");
                    }
                }

                if (Interlocked.Increment(ref completed) == 100)
                {
                    killed.TrySetResult();
                }
            }
        })).ToArray();

        await killed.Task.WaitAsync(TestWait.Timeout);
        var victim = harness.Upstreams[0];
        await victim.KillAsync().WaitAsync(TestWait.Timeout);
        var servedAtKill = victim.Served;
        await Task.WhenAll(load).WaitAsync(TestWait.Timeout);

        Assert.Empty(failures);
        Assert.True(servedAtKill > 0, "the killed replica took requests before the kill");
        Assert.Equal(workers * perWorker, completed);
        await TestWait.UntilAsync(() => harness.Balancer.GetInFlight().Values.All(c => c == 0), "in-flight counts to return to zero");
    }

    [Fact]
    public async Task Proxy_ReplicaLostWhileARequestWaitsForItsAnswer_TheRequestIsRetriedElsewhere()
    {
        // A node whose link died answers nothing, not even a reset: only the controller's verdict ends the wait.
        await using var harness = await BalancerHarness.StartAsync(2, listReplicas: false);
        var (silent, live) = (harness.Upstreams[0], harness.Upstreams[1]);
        live.Release();
        harness.Balancer.UpdateReplicas([silent.Endpoint()]);
        var request = harness.Client.PostAsync("/v1/hold", new StringContent("{}"));
        await TestWait.UntilAsync(() => silent.Held == 1, "the request to wait on the silent replica");

        harness.Balancer.UpdateReplicas([silent.Endpoint() with { Ready = false, Lost = true }, live.Endpoint()]);

        using var response = await request.WaitAsync(TestWait.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(live.Name, await response.Content.ReadAsStringAsync());
        await TestWait.UntilAsync(() => silent.Held == 0, "the abandoned attempt to end");
        await TestWait.UntilAsync(() => harness.Balancer.GetInFlight().Values.All(c => c == 0), "in-flight counts to return to zero");
    }

    [Fact]
    public async Task Proxy_ConnectionRefused_RetriesElsewhereAndSuspendsTheReplica()
    {
        await using var harness = await BalancerHarness.StartAsync(1, new ServiceLoadBalancerOptions { Policy = LoadBalancingPolicyNames.RoundRobin }, listReplicas: false);
        var dead = new ReplicaEndpoint("dead", new Uri($"http://127.0.0.1:{ClosedPort()}"), true);
        harness.Balancer.UpdateReplicas([dead, harness.Upstreams[0].Endpoint()]);
        var callbacks = 0;
        harness.Balancer.OnRequest = _ => Interlocked.Increment(ref callbacks);

        for (var i = 0; i < 4; i++)
        {
            var (status, text) = await harness.EchoAsync($"b{i}");
            Assert.Equal(200, status);
            Assert.Equal($"r0:b{i}", text);
        }

        Assert.Equal(4, callbacks);
        Assert.True(harness.Balancer.IsSuspended("dead"));

        harness.Time.Advance(TimeSpan.FromSeconds(11));
        Assert.False(harness.Balancer.IsSuspended("dead"));

        // Failing again suspends it again; the controller listing it as not ready and then ready clears that at once.
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal("r0", await harness.EchoReplicaAsync());
        }

        Assert.True(harness.Balancer.IsSuspended("dead"));
        harness.Balancer.UpdateReplicas([dead with { Ready = false }, harness.Upstreams[0].Endpoint()]);
        harness.Balancer.UpdateReplicas([dead, harness.Upstreams[0].Endpoint()]);
        Assert.False(harness.Balancer.IsSuspended("dead"));
        Assert.All(harness.Balancer.GetInFlight().Values, c => Assert.Equal(0, c));
    }

    [Fact]
    public async Task Proxy_EveryReplicaRefuses_Returns502AfterMaxAttempts()
    {
        await using var harness = await BalancerHarness.StartAsync(0);
        harness.Balancer.UpdateReplicas(Enumerable.Range(0, 4).Select(i => new ReplicaEndpoint($"d{i}", new Uri($"http://127.0.0.1:{ClosedPort()}"), true)).ToArray());

        var (status, text) = await harness.EchoAsync("x");

        Assert.Equal(502, status);
        Assert.Contains("replica_unavailable", text, StringComparison.Ordinal);
        Assert.Equal(3, Enumerable.Range(0, 4).Count(i => harness.Balancer.IsSuspended($"d{i}")));
    }

    [Fact]
    public async Task Proxy_UpstreamErrorResponse_PassedThroughWithoutRetry()
    {
        await using var harness = await BalancerHarness.StartAsync(2);
        using var response = await harness.Client.PostAsync("/v1/fail500", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("boom", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, harness.Upstreams.Sum(u => u.Served));
        Assert.False(harness.Balancer.IsSuspended("r0") || harness.Balancer.IsSuspended("r1"));
    }

    [Fact]
    public async Task GetInFlight_AfterLoadWithErrorsCancellationsAndChurn_ReturnsToExactlyZero()
    {
        await using var harness = await BalancerHarness.StartAsync(3);
        var all = harness.Upstreams.Select(u => u.Endpoint()).ToArray();
        var dead = new ReplicaEndpoint("dead", new Uri($"http://127.0.0.1:{ClosedPort()}"), true);
        using var cancel = new CancellationTokenSource();
        var tasks = new List<Task>();

        for (var i = 0; i < 60; i++)
        {
            tasks.Add(Swallow(harness.EchoAsync($"e{i}", delayMs: 3)));
            tasks.Add(Swallow(harness.Client.PostAsync(i % 2 == 0 ? "/v1/fail500" : "/v1/abortmid", new StringContent("{}"))));
        }

        var holds = new List<Task>();
        for (var i = 0; i < 10; i++)
        {
            holds.Add(Swallow(harness.Client.PostAsync("/v1/hold", new StringContent("{}"), cancel.Token)));
        }

        // Churn while the load runs: replicas leave, come back not ready, a dead one joins, everything returns.
        harness.Balancer.UpdateReplicas([all[0], all[1], dead]);
        harness.Balancer.UpdateReplicas([all[1], all[2] with { Ready = false }]);
        harness.Balancer.UpdateReplicas([dead, all[2]]);
        harness.Balancer.UpdateReplicas(all);
        await Task.WhenAll(tasks).WaitAsync(TestWait.Timeout);
        await TestWait.UntilAsync(() => harness.Upstreams.Sum(u => u.Held) == 10, "the held requests to park on replicas");
        await TestWait.UntilAsync(() => harness.Balancer.GetInFlight().Values.Sum() == 10, "only the held requests to remain in flight");
        await cancel.CancelAsync();
        await Task.WhenAll(holds).WaitAsync(TestWait.Timeout);

        await TestWait.UntilAsync(() => harness.Balancer.GetInFlight().Values.All(c => c == 0), "every in-flight count to return to zero");
        Assert.Equal(["r0", "r1", "r2"], harness.Balancer.GetInFlight().Keys.Order());
    }

    [Fact]
    public async Task Proxy_ReplicaSilentPastStreamTimeout_Returns504AndKeepsTheReplica()
    {
        await using var harness = await BalancerHarness.StartAsync(1, new ServiceLoadBalancerOptions { StreamTimeout = TimeSpan.FromMilliseconds(300) });

        using var response = await harness.Client.PostAsync("/v1/hold", new StringContent("{}")).WaitAsync(TestWait.Timeout);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("replica_timeout", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // A slow replica is not a dead one: no retry elsewhere (it may still be working) and no suspension.
        Assert.Equal(1, harness.Upstreams[0].Served);
        Assert.False(harness.Balancer.IsSuspended("r0"));
        await TestWait.UntilAsync(() => harness.Balancer.GetInFlight()["r0"] == 0, "the timed-out request to leave the count");
    }

    private static async Task Swallow<T>(Task<T> task)
    {
        try
        {
            var result = await task;
            (result as IDisposable)?.Dispose();
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            // Cancelled and cut requests are part of this test's load.
        }
    }

    // Nothing listens there, and no outgoing connection takes it as a source port meanwhile.
    private static int ClosedPort() => FreePort.Next();
}
