using System.Net.Http.Json;
using WrinkleFree.Providers.Ssh.Tests.Support;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.State;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Ssh;

namespace WrinkleFree.Providers.Ssh.Tests.Provider;

/// <summary>
/// A whole service on an ssh base tier (two real sshd nodes, one replica each, `wf replica` with mutual TLS) and a local
/// burst tier: replicas go to the nodes first and spill to local at capacity; a node whose link goes down under load is
/// replaced on the local tier with no failed request, and when it comes back its old replica is stopped, not served twice.
/// The same when only the node's sshd dies (its replica serves on, but no one can manage it, so it is replaced once the
/// failure timeout passes). Then the daemon is killed and restarted: every replica is adopted and none launched again.
/// </summary>
public sealed class SshTierServiceTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private static string TinyModel => Path.Combine(RepositoryPaths.Root, "models", "wrinklefree-tiny.gguf");

    [SshdTheory]
    [InlineData("link down")]
    [InlineData("sshd killed")]
    public async Task Service_NodesFirstThenLocal_ANodeLostUnderLoadIsReplacedWithNoFailedRequest_NotDuplicatedWhenBack_AdoptedAfterDaemonRestart(string fault)
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
        using var timeline = new TimelineLogger();
        var ssh = pool.NewProvider(timeline);
        var providers = new Dictionary<string, IReplicaProvider>
        {
            [ProviderNames.Ssh] = ssh,
            [ProviderNames.Local] = new LocalProviderFactory().Create(new ReplicaProviderContext(pool.Home, TimeProvider.System, timeline)),
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
        var controller = await ServiceController.StartAsync("svc", store, providers, options, TimeProvider.System, timeline, CancellationToken.None);
        try
        {
            var placed = await WaitForAsync(controller, s => s.ReadyCount == 3, "three ready replicas");
            Assert.Equal(2, placed.Replicas.Count(r => r.Tier == "hetzner" && r.Status == ReplicaStatus.Ready));
            Assert.Single(placed.Replicas, r => r.Tier == "burst" && r.Status == ReplicaStatus.Ready);
            Assert.All(placed.Replicas.Where(r => r.Tier == "hetzner"), r => Assert.StartsWith("https://10.", r.Endpoint, StringComparison.Ordinal));

            // Load through the service endpoint while one node is lost.
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
            await (fault == "link down" ? lostNode.LinkDownAsync() : lostNode.KillSshdAsync());
            var lostAt = DateTime.UtcNow;

            var replaced = await WaitForAsync(controller,
                s => s.ReadyCount == 3 && s.Replicas.All(r => r.Id != lostReplica.Id || r.Status.IsTerminal()), "the lost node's replica replaced");
            Assert.Equal(2, replaced.Replicas.Count(r => r.Tier == "burst" && r.Status == ReplicaStatus.Ready));
            var during = Volatile.Read(ref sent);
            output.WriteLine($"{fault}: replica {lostReplica.Id} replaced and 3 ready again after {(DateTime.UtcNow - lostAt).TotalSeconds:0.0} s; {during} requests sent so far, {failures.Count} failed");

            await (fault == "link down" ? lostNode.LinkUpAsync() : lostNode.StartSshdAsync());
            await WaitAsync(() => ssh.KnownCapacity(tier, new Service.Spec.ResourcesSpec())?.Replicas == 2, "the node back in the plan");
            await WaitAsync(() => !File.ReadAllText(Path.Combine(pool.Home, "ssh", "pending-stops.json")).Contains($"\"replica_id\": {lostReplica.Id}", StringComparison.Ordinal), "the old replica on the returned node stopped");
            await stopLoad.CancelAsync();
            await load;

            output.WriteLine($"node back: old replica stopped; {sent} requests in all, {failures.Count} failed");
            Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests failed: {string.Join("; ", failures.Take(5))}");
            Assert.True(during >= 5, $"only {during} requests ran while the node was lost");
            // Stopped, not merely unreachable: its port on the node refuses connections.
            var old = new Uri(lostReplica.Endpoint!);
            using (var tcp = new System.Net.Sockets.TcpClient())
                await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(() => tcp.ConnectAsync(old.Host, old.Port));

            // The daemon killed (no shutdown: its replicas keep running) and started again over the same state.
            var before = controller.Snapshot.Replicas.Where(r => !r.Status.IsTerminal()).Select(r => (r.Id, r.Endpoint)).Order().ToList();
            await controller.DisposeAsync();
            await ssh.DisposeAsync();
            var restartedSsh = pool.NewProvider(timeline);
            providers[ProviderNames.Ssh] = restartedSsh;
            controller = await ServiceController.StartAsync("svc", store, providers, options, TimeProvider.System, timeline, CancellationToken.None);
            var adopted = await WaitForAsync(controller, s => s.ReadyCount == 3, "three ready replicas after the restart");
            Assert.Equal(before, adopted.Replicas.Where(r => !r.Status.IsTerminal()).Select(r => (r.Id, r.Endpoint)).Order().ToList());
            output.WriteLine($"daemon restarted: replicas {string.Join(", ", before.Select(b => b.Id))} adopted, none launched again");
    
        }
        catch
        {
            foreach (var line in timeline.Lines)
                output.WriteLine(line);
            throw;
        }
        finally
        {
            // Shut down, not just disposed: the local tier's replicas are this machine's processes and must not outlive the test.
            await controller.ShutdownAsync(CancellationToken.None).WaitAsync(Deadline);
            await controller.DisposeAsync();
        }
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
