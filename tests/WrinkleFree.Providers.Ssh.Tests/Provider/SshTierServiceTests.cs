using System.Net.Http.Json;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.State;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Ssh;
using Microsoft.Extensions.Logging.Abstractions;

namespace WrinkleFree.Providers.Ssh.Tests.Provider;

/// <summary>
/// A whole service on an ssh base tier (two real sshd nodes, one replica each, `wf replica` with mutual TLS) and a local
/// burst tier: replicas go to the nodes first and spill to local at capacity; a node whose link goes down under load is
/// replaced on the local tier with no failed request, and when it comes back its old replica is stopped, not served twice.
/// </summary>
public sealed class SshTierServiceTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private static string TinyModel => Path.Combine(RepositoryPaths.Root, "models", "wrinklefree-tiny.gguf");

    [SshdFact]
    public async Task Service_NodesFirstThenLocal_ANodeLostUnderLoadIsReplacedWithNoFailedRequest_AndNotDuplicatedWhenBack()
    {
        await using var pool = await SshPoolFixture.StartAsync(nodes: 2, replicasPerNode: 1, realWf: true);
        var spec = $"""
            service:
              readiness_probe:
                path: /health
                initial_delay_seconds: 60
                consecutive_failure_threshold_timeout: 3
              replica_policy:
                min_replicas: 3
            envs:
              MODEL_PATH: {TinyModel}
            tiers:
              - name: hetzner
                provider: ssh
                cost_per_hour: 0
                settings:
                  pool: {SshPoolFixture.Pool}
              - name: burst
                provider: local
                capacity: 2
                cost_per_hour: 1
            """;
        var ssh = pool.NewProvider();
        var providers = new Dictionary<string, IReplicaProvider>
        {
            [ProviderNames.Ssh] = ssh,
            [ProviderNames.Local] = new LocalProviderFactory().Create(new ReplicaProviderContext(pool.Home, TimeProvider.System, NullLoggerFactory.Instance)),
        };
        var tier = Service.Spec.ServiceSpecParser.Parse(spec, "svc").Tiers[0];
        await ssh.CheckTierAsync(tier, new Service.Spec.ResourcesSpec(), "tiers[0].settings", CancellationToken.None);
        using var store = await ServiceStore.OpenAsync(Path.Combine(pool.Home, "state.db"), TimeProvider.System, null, CancellationToken.None);
        await store.CreateServiceAsync("svc", spec, "CONTROLLER_INIT", CancellationToken.None);
        var options = new ServiceControllerOptions
        {
            TickInterval = TimeSpan.FromMilliseconds(300),
            DrainTimeout = TimeSpan.FromSeconds(5),
            PkiFolder = Path.Combine(pool.Home, "pki"),
            ExtraEnvironment = new Dictionary<string, string> { ["PATH"] = pool.LocalBin() + ":" + Environment.GetEnvironmentVariable("PATH") },
        };
        await using var controller = await ServiceController.StartAsync("svc", store, providers, options, TimeProvider.System, null, CancellationToken.None);

        var placed = await WaitForAsync(controller, s => s.ReadyCount == 3, "three ready replicas");
        Assert.Equal(2, placed.Replicas.Count(r => r.Tier == "hetzner" && r.Status == ReplicaStatus.Ready));
        Assert.Single(placed.Replicas, r => r.Tier == "burst" && r.Status == ReplicaStatus.Ready);
        Assert.All(placed.Replicas.Where(r => r.Tier == "hetzner"), r => Assert.StartsWith("https://10.", r.Endpoint, StringComparison.Ordinal));

        // Load through the service endpoint while one node's link goes down.
        using var http = new HttpClient { BaseAddress = controller.Snapshot.Endpoint, Timeout = TimeSpan.FromSeconds(60) };
        using var stopLoad = new CancellationTokenSource();
        var failures = new List<string>();
        var sent = 0;
        var load = Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                try
                {
                    using var response = await http.PostAsJsonAsync("/v1/completions", new { prompt = "Once upon a time", max_tokens = 2 });
                    if (!response.IsSuccessStatusCode)
                    {
                        var body = await response.Content.ReadAsStringAsync();
                        lock (failures) failures.Add($"HTTP {(int)response.StatusCode}: {body}");
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    lock (failures) failures.Add(e.Message);
                }
                Interlocked.Increment(ref sent);
            }
        });
        var lostReplica = placed.Replicas.First(r => r.Tier == "hetzner");
        var lostNode = pool.Nodes.Single(n => lostReplica.Endpoint!.Contains("//" + n.Address + ":", StringComparison.Ordinal));
        await WaitAsync(() => Volatile.Read(ref sent) >= 5, "requests flowing");
        await lostNode.LinkDownAsync();
        var lostAt = DateTime.UtcNow;

        var replaced = await WaitForAsync(controller,
            s => s.ReadyCount == 3 && s.Replicas.All(r => r.Id != lostReplica.Id || r.Status.IsTerminal()), "the lost node's replica replaced");
        Assert.Equal(2, replaced.Replicas.Count(r => r.Tier == "burst" && r.Status == ReplicaStatus.Ready));
        var during = Volatile.Read(ref sent);
        output.WriteLine($"node lost: replica {lostReplica.Id} replaced and 3 ready again after {(DateTime.UtcNow - lostAt).TotalSeconds:0.0} s; {during} requests sent so far, {failures.Count} failed");

        await lostNode.LinkUpAsync();
        await WaitAsync(() => ssh.KnownCapacity(tier, new Service.Spec.ResourcesSpec())?.Replicas == 2, "the node back in the plan");
        await WaitAsync(() => !File.ReadAllText(Path.Combine(pool.Home, "ssh", "pending-stops.json")).Contains($"\"replica_id\": {lostReplica.Id}", StringComparison.Ordinal), "the old replica on the returned node stopped");
        await stopLoad.CancelAsync();
        await load;

        output.WriteLine($"node back: old replica stopped; {sent} requests in all, {failures.Count} failed");
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests failed: {string.Join("; ", failures.Take(5))}");
        Assert.True(during >= 5, $"only {during} requests ran while the node was lost");
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        await Assert.ThrowsAnyAsync<Exception>(() => probe.GetAsync(lostReplica.Endpoint!.Replace("https://", "http://", StringComparison.Ordinal) + "/health"));
    }

    private static async Task<ServiceSnapshot> WaitForAsync(ServiceController controller, Func<ServiceSnapshot, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var snapshot = controller.Snapshot;
            if (condition(snapshot))
                return snapshot;
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}: " + string.Join(", ", snapshot.Replicas.Select(r => $"{r.Id}:{r.Tier}:{r.Status}:{r.FailureReason}")));
            await Task.Delay(200);
        }
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(100);
        }
    }
}
