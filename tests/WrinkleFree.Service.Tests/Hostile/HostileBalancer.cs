using System.Net.Http.Headers;
using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Platform.Processes;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Service.Tests.Observability;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Hostile;

namespace WrinkleFree.Service.Tests.Hostile;

/// <summary>
/// A real load balancer in front of two real `wf replica` processes (tiny model), for hostile batches. The balancer's clock
/// is fake and never advanced, so a replica the balancer put in cooldown during a batch stays visibly suspended.
/// </summary>
internal sealed class HostileBalancer : IAsyncDisposable
{
    private readonly TempDirectory _logs;

    private HostileBalancer(TempDirectory logs, ReplicaProcess[] replicas, ServiceLoadBalancer balancer)
    {
        _logs = logs;
        Replicas = replicas;
        Balancer = balancer;
        Client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = balancer.BaseUrl, Timeout = ReplicaProcess.Deadline };
    }

    public ReplicaProcess[] Replicas { get; }

    public ServiceLoadBalancer Balancer { get; }

    public HttpClient Client { get; }

    public Uri Address => Balancer.BaseUrl;

    public static async Task<HostileBalancer> StartAsync()
    {
        var logs = new TempDirectory("wf-hostile-tests");
        var replicas = new ReplicaProcess[2];
        for (var i = 0; i < replicas.Length; i++)
        {
            replicas[i] = await ReplicaProcess.StartAsync(Path.Combine(logs.Path, $"r{i}.log"));
        }

        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var balancer = await ServiceLoadBalancer.StartAsync(new ServiceLoadBalancerOptions { ServiceName = "hostile" }, time, random: new Random(7)).WaitAsync(ReplicaProcess.Deadline);
        balancer.UpdateReplicas(replicas.Select((r, i) => new ReplicaEndpoint($"r{i}", r.Address, Ready: true)).ToArray());
        return new HostileBalancer(logs, replicas, balancer);
    }

    /// <summary>POSTs raw bytes through the balancer; status and body, or a null status when the connection failed.</summary>
    public async Task<(int? Status, string? Body)> PostAsync(string path, byte[] body, string contentType = "application/json")
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        try
        {
            using var response = await Client.PostAsync(path, content).WaitAsync(ReplicaProcess.Deadline);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync().WaitAsync(ReplicaProcess.Deadline));
        }
        catch (HttpRequestException)
        {
            return (null, null);
        }
    }

    /// <summary>
    /// After a batch: both replica processes alive, neither in cooldown (client mistakes are not replica failures), and a
    /// valid completion through the balancer answered 200.
    /// </summary>
    public async Task AssertStillServingAsync(HostileTally tally)
    {
        for (var i = 0; i < Replicas.Length; i++)
        {
            if (!LinuxProcess.GroupAlive(Replicas[i].Pid))
            {
                tally.RecordDeath($"replica r{i} (pid {Replicas[i].Pid})");
            }
        }

        var suspended = Enumerable.Range(0, Replicas.Length).Where(i => Balancer.IsSuspended($"r{i}")).Select(i => $"r{i}").ToList();
        Assert.True(suspended.Count == 0, $"{tally}: the balancer put healthy replicas in cooldown: {string.Join(", ", suspended)}");
        var (status, body) = await PostAsync("/v1/completions", """{"prompt": "Once upon a time", "max_tokens": 1}"""u8.ToArray());
        Assert.True(status == 200, $"{tally}: a valid request after the batch got {status}: {body}");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Balancer.DisposeAsync();
        foreach (var replica in Replicas)
        {
            await replica.DisposeAsync();
        }

        _logs.Dispose();
    }
}
