using System.Net;
using WrinkleFree.Service.Controller;
using static WrinkleFree.Service.Tests.Controller.ControllerHarness;

namespace WrinkleFree.Service.Tests.Controller;

/// <summary>The reconcile loop with real replica processes (the fake upstream), a real balancer and a real SQLite store.</summary>
public sealed class ServiceControllerTests
{
    [Fact]
    public async Task StartAsync_MinReplicas_ComeUpOnCheapestTiersAndServeThroughBalancer()
    {
        await using var h = await CreateAsync("svc", SpecYaml(minReplicas: 2));
        var controller = await h.StartControllerAsync("svc");
        try
        {
            var snapshot = await h.WaitForAsync(controller, s => s.ReadyCount == 2, "two ready replicas");
            Assert.Equal(["base", "spill"], snapshot.Replicas.Select(r => r.Tier).Order().ToArray());
            Assert.Equal(1.0, snapshot.CostPerHour);
            using var http = new HttpClient { Timeout = Deadline };
            using var response = await http.GetAsync(new Uri(controller.Endpoint, "/v1/models"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("READY", (await h.Store.GetServiceAsync("svc", CancellationToken.None))!.Status);
        }
        finally
        {
            await controller.ShutdownAsync(CancellationToken.None).WaitAsync(Deadline);
            await controller.DisposeAsync();
        }
        var left = await h.Store.ListReplicasAsync("svc", includeTerminated: false, CancellationToken.None);
        Assert.Empty(left);
    }

    [Fact]
    public async Task Tick_ReplicaProcessKilled_ReplicaIsReplaced()
    {
        await using var h = await CreateAsync("svc", SpecYaml(minReplicas: 1));
        var controller = await h.StartControllerAsync("svc");
        try
        {
            var first = (await h.WaitForAsync(controller, s => s.ReadyCount == 1, "a ready replica")).Replicas.Single(r => r.Status == ReplicaStatus.Ready);
            System.Diagnostics.Process.GetProcessById(first.Pid!.Value).Kill();
            var next = await h.WaitForAsync(controller, s => s.ReadyCount == 1 && s.Replicas.All(r => r.Id != first.Id), "a replacement");
            var replacement = next.Replicas.Single(r => r.Status == ReplicaStatus.Ready);
            Assert.NotEqual(first.Pid, replacement.Pid);
            Assert.Equal("base", replacement.Tier);
            var failed = await h.Store.GetReplicaAsync("svc", first.Id, CancellationToken.None);
            Assert.True(failed!.IsTerminated);
            Assert.Equal("FAILED", failed.Status);
        }
        finally
        {
            await controller.ShutdownAsync(CancellationToken.None).WaitAsync(Deadline);
            await controller.DisposeAsync();
        }
    }

    [Fact]
    public async Task StartAsync_AfterControllerRestart_ReadoptsSameProcessesAndLaunchesNone()
    {
        await using var h = await CreateAsync("svc", SpecYaml(minReplicas: 2));
        var controller = await h.StartControllerAsync("svc");
        IReadOnlyList<ReplicaSnapshot> before;
        try
        {
            before = (await h.WaitForAsync(controller, s => s.ReadyCount == 2, "two ready replicas")).Replicas;
        }
        finally
        {
            // Leaves the replicas running, as a killed daemon would.
            await controller.DisposeAsync();
        }

        var restarted = await h.StartControllerAsync("svc");
        try
        {
            var after = (await h.WaitForAsync(restarted, s => s.ReadyCount == 2, "re-adopted replicas")).Replicas;
            Assert.Equal(before.Select(r => (r.Id, r.Pid)), after.Select(r => (r.Id, r.Pid)));
            var all = await h.Store.ListReplicasAsync("svc", includeTerminated: true, CancellationToken.None);
            Assert.Equal(2, all.Count);
        }
        finally
        {
            await restarted.ShutdownAsync(CancellationToken.None).WaitAsync(Deadline);
            await restarted.DisposeAsync();
        }
    }
}
