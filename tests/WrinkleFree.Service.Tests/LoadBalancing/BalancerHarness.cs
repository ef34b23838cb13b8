using System.Text;
using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Tests.LoadBalancing;

/// <summary>A balancer on 127.0.0.1:0 in front of real echo replicas, with a client and a fake clock.</summary>
internal sealed class BalancerHarness : IAsyncDisposable
{
    private BalancerHarness(ServiceLoadBalancer balancer, EchoUpstream[] upstreams, FakeTimeProvider time)
    {
        Balancer = balancer;
        Upstreams = upstreams;
        Time = time;
        Client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = balancer.BaseUrl, Timeout = TestWait.Timeout };
    }

    public ServiceLoadBalancer Balancer { get; }

    public EchoUpstream[] Upstreams { get; }

    public FakeTimeProvider Time { get; }

    public HttpClient Client { get; }

    public static async Task<BalancerHarness> StartAsync(int replicas, ServiceLoadBalancerOptions? options = null, bool listReplicas = true)
    {
        var upstreams = new EchoUpstream[replicas];
        for (var i = 0; i < replicas; i++)
        {
            upstreams[i] = await EchoUpstream.StartAsync($"r{i}").WaitAsync(TestWait.Timeout);
        }

        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var balancer = await ServiceLoadBalancer.StartAsync(options ?? new ServiceLoadBalancerOptions(), time, random: new Random(7)).WaitAsync(TestWait.Timeout);
        if (listReplicas)
        {
            balancer.UpdateReplicas(upstreams.Select(u => u.Endpoint()).ToArray());
        }

        return new BalancerHarness(balancer, upstreams, time);
    }

    /// <summary>POSTs <paramref name="body"/> to /v1/echo and returns the status and the answer ("replica:body").</summary>
    public async Task<(int Status, string Text)> EchoAsync(string body, int delayMs = 0, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/echo") { Content = new StringContent(body, Encoding.UTF8, "text/plain") };
        if (delayMs > 0)
        {
            request.Headers.Add("x-delay-ms", delayMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var response = await Client.SendAsync(request, cancellationToken).WaitAsync(TestWait.Timeout, cancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    /// <summary>Which replica answered an echo.</summary>
    public async Task<string> EchoReplicaAsync()
    {
        var (status, text) = await EchoAsync("x");
        Assert.Equal(200, status);
        return text.Split(':')[0];
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Balancer.DisposeAsync();
        foreach (var upstream in Upstreams)
        {
            await upstream.DisposeAsync();
        }
    }
}
