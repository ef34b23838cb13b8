using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Service.Tests.Observability;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.LoadBalancing;

/// <summary>
/// A 10 MB body through the balancer once got 502 and put both replicas in cooldown (the replicas refuse bodies over
/// 8 MiB and close the connection mid-upload). Now the balancer refuses it itself with 413, and a replica's 4xx never
/// marks that replica bad. Real balancer, real `wf replica` child processes.
/// </summary>
public sealed class BalancerBodyLimitTests : IAsyncLifetime
{
    private readonly TempHome _home = new();
    private ReplicaProcess[] _replicas = [];

    public async Task InitializeAsync()
    {
        _replicas =
        [
            await ReplicaProcess.StartAsync(Path.Combine(_home.Path, "r0.log")),
            await ReplicaProcess.StartAsync(Path.Combine(_home.Path, "r1.log")),
        ];
    }

    public async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }

        _home.Dispose();
    }

    [Fact]
    public async Task Proxy_TenMegabyteBody_413FromTheBalancerAndNoReplicaSuspended()
    {
        await using var balancer = await StartBalancerAsync(new ServiceLoadBalancerOptions());
        using var client = new HttpClient { BaseAddress = balancer.BaseUrl, Timeout = TestWait.Timeout };

        // Expect: 100-continue lets the client hold the body back, so the early 413 cannot race the upload.
        var (status, error) = await PostAsync(client, BigBody(10_000_000), expectContinue: true);

        Assert.Equal(413, status);
        Assert.Equal("request_too_large", error.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains($"limit of {8 << 20} bytes", error.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        await AssertBothServeAsync(balancer);
    }

    [Fact]
    public async Task Proxy_BodyOverTheReplicasLimitButUnderTheBalancers_ReplicasNotSuspended()
    {
        // A balancer configured above the replicas' limit: the replica's refusal must not count against it.
        await using var balancer = await StartBalancerAsync(new ServiceLoadBalancerOptions { MaxRequestBodyBytes = 16 << 20 });
        using var client = new HttpClient { BaseAddress = balancer.BaseUrl, Timeout = TestWait.Timeout };

        var (status, error) = await PostAsync(client, BigBody(10_000_000));

        Assert.True(status == 413, $"{status}: {error}");
        await AssertBothServeAsync(balancer);
    }

    [Theory]
    [InlineData("{\"prompt\": 5}", 400)]
    [InlineData("{\"prompt\": \"hi\", \"model\": \"nope\"}", 404)]
    public async Task Proxy_ReplicaClientError_PassedThroughAndReplicaNotSuspended(string body, int expected)
    {
        await using var balancer = await StartBalancerAsync(new ServiceLoadBalancerOptions());
        using var client = new HttpClient { BaseAddress = balancer.BaseUrl, Timeout = TestWait.Timeout };

        for (var i = 0; i < 4; i++)
        {
            var (status, _) = await PostAsync(client, body);
            Assert.Equal(expected, status);
        }

        await AssertBothServeAsync(balancer);
    }

    private async Task<ServiceLoadBalancer> StartBalancerAsync(ServiceLoadBalancerOptions options)
    {
        var balancer = await ServiceLoadBalancer.StartAsync(options, new FakeTimeProvider(DateTimeOffset.UnixEpoch), random: new Random(7)).WaitAsync(TestWait.Timeout);
        balancer.UpdateReplicas(_replicas.Select((r, i) => new ReplicaEndpoint($"r{i}", r.Address, Ready: true)).ToArray());
        return balancer;
    }

    private static string BigBody(int bytes) => "{\"prompt\": \"" + new string('x', bytes) + "\", \"max_tokens\": 1}";

    private static async Task<(int Status, JsonElement Body)> PostAsync(HttpClient client, string body, bool expectContinue = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = expectContinue;
        using var response = await client.SendAsync(request).WaitAsync(TestWait.Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TestWait.Timeout);
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static async Task AssertBothServeAsync(ServiceLoadBalancer balancer)
    {
        Assert.False(balancer.IsSuspended("r0"), "r0 was suspended");
        Assert.False(balancer.IsSuspended("r1"), "r1 was suspended");
        using var client = new HttpClient { BaseAddress = balancer.BaseUrl, Timeout = TestWait.Timeout };
        for (var i = 0; i < 4; i++)
        {
            var (status, body) = await PostAsync(client, "{\"prompt\": \"hi\", \"max_tokens\": 1}");
            Assert.True(status == 200, $"{status}: {body}");
        }
    }
}
