using System.Net.Http.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Providers.Kubernetes.Tests.Support;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;
using WrinkleFree.Service.State;
using WrinkleFree.Testing;
using Xunit.Abstractions;

namespace WrinkleFree.Providers.Kubernetes.Tests.Service;

/// <summary>
/// A whole service in this process (controller, real load balancer, `wf replica` with mutual TLS as every replica) on a
/// local base tier and a kubernetes tier served by the API test double, whose pods are reached through port-forwards:
/// replicas spill into pods at the base tier's capacity and leave them first; an evicted pod under load costs no
/// request; a restarted controller adopts its pods and creates none again.
/// </summary>
[Collection(nameof(KubernetesTierServiceTests))]
public sealed class KubernetesTierServiceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private static string TinyModel => Path.Combine(RepositoryPaths.Root, "models", "wrinklefree-tiny.gguf");

    private static string Spec(int minReplicas, int baseCapacity, int podCapacity) => $"""
        service:
          readiness_probe:
            path: /health
            initial_delay_seconds: 60
          replica_policy:
            min_replicas: {minReplicas}
        envs:
          MODEL_PATH: {TinyModel}
        tiers:
          - name: base
            provider: local
            capacity: {baseCapacity}
            cost_per_hour: 0
          - name: k8s
            provider: kubernetes
            capacity: {podCapacity}
            cost_per_hour: 1
            settings:
              context: {TestCluster.Context}
              namespace: {TestCluster.Namespace}
              image: {TestCluster.Image}
        """;

    [Fact]
    public async Task Service_SpillsIntoPodsAtTheBaseTiersCapacity_AndLeavesThemFirstWhenScaledBack()
    {
        await using var cluster = await TestCluster.StartAsync();
        await using var service = await RunningService.StartAsync(cluster, Spec(minReplicas: 1, baseCapacity: 1, podCapacity: 2));

        var one = await service.WaitForAsync(s => s.ReadyCount == 1, "one ready replica");
        Assert.Equal("base", Assert.Single(one.Replicas, r => r.Status == ReplicaStatus.Ready).Tier);
        Assert.Empty(cluster.Api.Pods(TestCluster.Namespace));

        await service.Controller.UpdateAsync(ServiceSpecParser.Parse(Spec(minReplicas: 3, baseCapacity: 1, podCapacity: 2), "svc"), Poll.Token());
        var three = await service.WaitForAsync(s => s.ReadyCount == 3, "three ready replicas");
        Assert.Equal(2, three.Replicas.Count(r => r.Tier == "k8s" && r.Status == ReplicaStatus.Ready));
        Assert.All(three.Replicas.Where(r => r.Tier == "k8s"), r => Assert.StartsWith("https://127.0.0.1:", r.Endpoint, StringComparison.Ordinal));
        Assert.Equal(2, cluster.Api.Pods(TestCluster.Namespace).Count(p => p.Status.Phase == "Running"));
        await service.CompleteAsync();

        await service.Controller.UpdateAsync(ServiceSpecParser.Parse(Spec(minReplicas: 1, baseCapacity: 1, podCapacity: 2), "svc"), Poll.Token());
        var back = await service.WaitForAsync(s => s.ReadyCount == 1 && s.Replicas.Where(r => r.Tier == "k8s").All(r => r.Status.IsTerminal()), "the pods' replicas scaled away");
        Assert.Equal("base", Assert.Single(back.Replicas, r => r.Status == ReplicaStatus.Ready).Tier);
        await Poll.UntilAsync(() => cluster.Api.Pods(TestCluster.Namespace).Count == 0, "the pods deleted", Deadline);
        await service.CompleteAsync();
    }

    [Fact]
    public async Task Service_APodEvictedUnderLoad_IsReplacedWithNoFailedRequest()
    {
        await using var cluster = await TestCluster.StartAsync();
        await using var service = await RunningService.StartAsync(cluster, Spec(minReplicas: 3, baseCapacity: 1, podCapacity: 3));
        var placed = await service.WaitForAsync(s => s.ReadyCount == 3, "three ready replicas");
        var victim = placed.Replicas.First(r => r.Tier == "k8s" && r.Status == ReplicaStatus.Ready);

        using var stopLoad = new CancellationTokenSource();
        var failures = new List<string>();
        var sent = 0;
        var load = Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                var error = await service.TryCompleteAsync();
                if (error is not null)
                {
                    lock (failures)
                        failures.Add(error);
                }

                Interlocked.Increment(ref sent);
            }
        });
        await Poll.UntilAsync(() => Volatile.Read(ref sent) >= 5, "requests flowing", Deadline);
        await cluster.Api.EvictAsync(TestCluster.Namespace, "wf-svc-" + victim.Id);
        var evictedAt = DateTime.UtcNow;

        var replaced = await service.WaitForAsync(
            s => s.ReadyCount == 3 && s.Replicas.All(r => r.Id != victim.Id || r.Status.IsTerminal()), "the evicted replica replaced");
        var during = Volatile.Read(ref sent);
        await Poll.UntilAsync(() => Volatile.Read(ref sent) >= during + 5, "requests after the replacement", Deadline);
        await stopLoad.CancelAsync();
        await load;

        output.WriteLine($"evicted replica {victim.Id} replaced after {(DateTime.UtcNow - evictedAt).TotalSeconds:0.0} s; {sent} requests, {failures.Count} failed");
        Assert.True(replaced.Replicas.SingleOrDefault(r => r.Id == victim.Id)?.Status is null or ReplicaStatus.Preempted);
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests failed: {string.Join("; ", failures.Take(5))}");
        Assert.Equal(2, replaced.Replicas.Count(r => r.Tier == "k8s" && r.Status == ReplicaStatus.Ready));
        Assert.DoesNotContain(replaced.Replicas, r => r.Id == victim.Id && r.Status == ReplicaStatus.Ready);
    }

    [Fact]
    public async Task Service_ControllerRestart_AdoptsItsPodsAndCreatesNoneAgain()
    {
        await using var cluster = await TestCluster.StartAsync();
        var spec = Spec(minReplicas: 2, baseCapacity: 0, podCapacity: 2);
        var before = await RunningService.StartAsync(cluster, spec);
        var first = await before.WaitForAsync(s => s.ReadyCount == 2, "two ready pods");
        Assert.All(first.Replicas, r => Assert.Equal("k8s", r.Tier));
        var uids = cluster.Api.Pods(TestCluster.Namespace).Select(p => p.Metadata.Uid).Order().ToList();
        // The controller and its provider go away; the pods stay, as they do when the daemon restarts.
        var home = before.Home;
        await before.LeaveRunningAsync();

        await using var after = await RunningService.StartAsync(cluster, spec, home);
        var adopted = await after.WaitForAsync(s => s.ReadyCount == 2, "both pods adopted and ready");

        Assert.Equal(first.Replicas.Select(r => r.Id).Order(), adopted.Replicas.Where(r => !r.Status.IsTerminal()).Select(r => r.Id).Order());
        Assert.Equal(uids, cluster.Api.Pods(TestCluster.Namespace).Select(p => p.Metadata.Uid).Order().ToList());
        Assert.Equal(2, cluster.Api.Requests.Count(r => r.StartsWith("POST /api/v1/namespaces/wf/pods", StringComparison.Ordinal)));
        await after.CompleteAsync();
    }

    /// <summary>A controller on a store in the cluster's home, with the local and kubernetes providers.</summary>
    private static class RunningService
    {
        public static async Task<InProcessService> StartAsync(TestCluster cluster, string spec, string? home = null)
        {
            cluster.RunServingWf();
            home ??= Directory.CreateDirectory(Path.Combine(cluster.Home, "daemon")).FullName;
            var kubernetes = cluster.NewProvider();
            var parsed = ServiceSpecParser.Parse(spec, "svc");
            for (var i = 0; i < parsed.Tiers.Count; i++)
            {
                if (parsed.Tiers[i].Provider == TierProvider.Kubernetes)
                    await kubernetes.CheckTierAsync(parsed.Tiers[i], parsed.Resources, $"tiers[{i}].settings", Poll.Token());
            }

            return await InProcessService.StartAsync(home, spec, new Dictionary<string, IReplicaProvider> { [ProviderNames.Kubernetes] = kubernetes }, Deadline);
        }
    }
}
