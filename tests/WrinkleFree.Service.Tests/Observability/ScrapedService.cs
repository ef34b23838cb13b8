using System.Text.Json;
using WrinkleFree.Platform.Files;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Observability;

/// <summary>
/// Service "chat" as Prometheus sees it in production: a real `wf replica` (tier onprem, replica 1) behind the service
/// endpoint's load balancer with its /metrics, both named in the file_sd files the daemon writes, and a real Prometheus on
/// the shipped configuration scraping them. The controller's push is made once by hand (one READY replica on onprem,
/// one scale-up on QPS), since no controller runs here.
/// </summary>
internal sealed class ScrapedService : IAsyncDisposable
{
    private ScrapedService(ReplicaProcess replica, ServiceLoadBalancer balancer, PrometheusServer prometheus)
    {
        Replica = replica;
        Balancer = balancer;
        Prometheus = prometheus;
    }

    public ReplicaProcess Replica { get; }

    public ServiceLoadBalancer Balancer { get; }

    public PrometheusServer Prometheus { get; }

    public static async Task<ScrapedService> StartAsync(string home)
    {
        var replica = await ReplicaProcess.StartAsync(Path.Combine(home, "logs", "chat", "1.log"));
        ServiceLoadBalancer? balancer = null;
        try
        {
            balancer = await ServiceLoadBalancer.StartAsync(new ServiceLoadBalancerOptions { ServiceName = "chat" }).WaitAsync(ReplicaProcess.Deadline);
            balancer.UpdateReplicas([new ReplicaEndpoint("1", replica.Address, Ready: true)]);
            balancer.Metrics.Publish(new ServiceState
            {
                Qps = 0.5,
                TargetReplicas = 1,
                SpilloverReplicas = 0,
                TtftP50Seconds = 0.02,
                Replicas = [new ReplicaCount("onprem", "READY", 1)],
                CostPerHour = [new TierCost("onprem", 0)],
                ScaleEvents = [new ScaleEventCount("up", "qps", 1)],
                Usage = [new TierUsage("onprem", 0.5, 0.25, 1200, 300)],
            });

            var sd = Path.Combine(home, "prometheus");
            Directory.CreateDirectory(sd);
            AtomicFile.WriteAllText(Path.Combine(sd, "replicas.json"), JsonSerializer.Serialize(new[]
            {
                new { targets = new[] { replica.HostPort }, labels = new Dictionary<string, string> { ["service"] = "chat", ["tier"] = "onprem", ["replica"] = "1", ["version"] = "1" } },
            }));
            AtomicFile.WriteAllText(Path.Combine(sd, "services.json"), JsonSerializer.Serialize(new[]
            {
                new { targets = new[] { $"{balancer.BaseUrl.Host}:{balancer.BaseUrl.Port}" }, labels = new Dictionary<string, string> { ["service"] = "chat" } },
            }));
            var prometheus = await PrometheusScrapeTests.StartShippedAsync(sd);
            return new ScrapedService(replica, balancer, prometheus);
        }
        catch
        {
            if (balancer is not null)
            {
                await balancer.DisposeAsync();
            }

            await replica.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends <paramref name="count"/> completions through the endpoint, each answered 200.</summary>
    public async Task SendAsync(int count)
    {
        using var http = new HttpClient { Timeout = ReplicaProcess.Deadline };
        for (var i = 0; i < count; i++)
        {
            using var response = await ReplicaProcess.CompleteAsync(http, Balancer.BaseUrl);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }
    }

    /// <summary>Waits until both targets have been scraped at least <paramref name="scrapes"/> times within the last minute.</summary>
    public Task WaitForScrapesAsync(int scrapes) => Prometheus.WaitUntilAsync(
        async () => (await Prometheus.QueryVectorAsync("count_over_time(up[1m]) and on (job, instance) up == 1")).Count(s => s.Value >= scrapes) == 2,
        $"{scrapes} successful scrapes of the replica and of the endpoint",
        async () => string.Join("; ", (await Prometheus.TargetsAsync()).Select(t => $"{t.Job} {t.ScrapeUrl} {t.Health} {t.LastError}")));

    public async ValueTask DisposeAsync()
    {
        await Prometheus.DisposeAsync();
        await Balancer.DisposeAsync();
        await Replica.DisposeAsync();
    }
}
