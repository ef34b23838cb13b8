using System.Net.Http.Headers;
using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Service.Security;
using WrinkleFree.Service.Tests.LoadBalancing;

namespace WrinkleFree.Service.Tests.Security;

/// <summary>A real balancer for service "svc" on 127.0.0.1:0 with API keys in force, on a fake clock.</summary>
internal sealed class KeyedBalancer : IAsyncDisposable
{
    public const string ReplicaKey = "internal-replica-key";

    private KeyedBalancer(ServiceLoadBalancer balancer, FakeTimeProvider time)
    {
        (Balancer, Time) = (balancer, time);
        Client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 256 }) { BaseAddress = balancer.BaseUrl, Timeout = TestWait.Timeout };
    }

    public ServiceLoadBalancer Balancer { get; }

    public FakeTimeProvider Time { get; }

    public HttpClient Client { get; }

    /// <summary>A key record as the store would hold it, and the key itself.</summary>
    public static (string Key, ApiKeyRecord Record) NewKey(string? service = "svc", int? rpm = null, int? tpm = null, int? concurrency = null,
        DateTimeOffset? expires = null, bool revoked = false)
    {
        var (key, id, hash) = ApiKeySecret.Generate();
        return (key, new ApiKeyRecord
        {
            Id = id, Hash = hash, Service = service, Rpm = rpm, Tpm = tpm, Concurrency = concurrency, ExpiresAt = expires,
            CreatedAt = DateTimeOffset.UnixEpoch, RevokedAt = revoked ? DateTimeOffset.UnixEpoch : null,
        });
    }

    public static async Task<KeyedBalancer> StartAsync(IEnumerable<ApiKeyRecord> keys, params ReplicaEndpoint[] replicas)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var options = new ServiceLoadBalancerOptions { ServiceName = "svc" };
        var balancer = await ServiceLoadBalancer.StartAsync(options, EndpointAuth.From(keys, ReplicaKey), time, null, new Random(7), CancellationToken.None).WaitAsync(TestWait.Timeout);
        balancer.UpdateReplicas(replicas);
        return new KeyedBalancer(balancer, time);
    }

    public async Task<HttpResponseMessage> SendAsync(string? key, string path = "/v1/chat/completions", HttpMethod? method = null, string body = "{}")
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Post, path);
        if (key is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (request.Method == HttpMethod.Post)
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        return await Client.SendAsync(request).WaitAsync(TestWait.Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Balancer.DisposeAsync();
    }
}
