using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Tests.Controller;
using WrinkleFree.Service.Tests.Providers;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Integration;

/// <summary>The daemon in-process with its admin API, real replica processes and a real store.</summary>
public sealed class ServiceDaemonTests
{
    private static readonly TimeSpan Deadline = ControllerHarness.Deadline;

    [Fact]
    public async Task AdminApi_UpdateMinReplicas_SpillsToPaidTierAndLeavesItFirst()
    {
        using var home = new TempHome();
        var pids = new HashSet<int>();
        var daemon = await ServiceDaemon.StartAsync(new DaemonOptions { Home = home.Path, TickInterval = TimeSpan.FromMilliseconds(200), DrainTimeout = TimeSpan.FromSeconds(5) },
            TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);
        try
        {
            Assert.Equal(Environment.ProcessId, DaemonInfo.TryRead(home.Path)!.Pid);
            using var client = await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline);
            Assert.NotNull(client);
            var created = await client.CreateAsync(new CreateServiceRequest { Name = "svc", SpecYaml = ControllerHarness.SpecYaml(1) }, CancellationToken.None).WaitAsync(Deadline);
            Assert.StartsWith("http://127.0.0.1:", created.Endpoint, StringComparison.Ordinal);

            var one = await WaitAsync(client, v => v.ReadyReplicas == 1, pids);
            Assert.Equal("base", one.Replicas.Single().Tier);

            await client.UpdateAsync("svc", new UpdateServiceRequest { MinReplicas = 3 }, CancellationToken.None).WaitAsync(Deadline);
            var three = await WaitAsync(client, v => v.ReadyReplicas == 3, pids);
            Assert.Equal(["base", "spill", "spill"], three.Replicas.Select(r => r.Tier).Order().ToArray());
            Assert.Equal(one.Replicas.Single().Pid, three.Replicas.Single(r => r.Tier == "base").Pid);
            Assert.Equal(2.0, three.CostPerHour);

            // Prometheus file_sd: every ready replica's host:port with its labels, and the service endpoint.
            var replicasFile = Path.Combine(PrometheusTargets.Folder(home.Path), "replicas.json");
            await ProviderTestSupport.WaitUntilAsync(async () => File.Exists(replicasFile)
                && System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(replicasFile)).RootElement.GetArrayLength() == 3, "three file_sd targets");
            using (var targets = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(replicasFile)))
            {
                var groups = targets.RootElement.EnumerateArray().ToList();
                Assert.Equal(three.Replicas.Select(r => new Uri(r.Endpoint!).Authority).Order(), groups.Select(g => g.GetProperty("targets")[0].GetString()).Order());
                Assert.All(groups, g => Assert.Equal("svc", g.GetProperty("labels").GetProperty("service").GetString()));
                Assert.Equal(["base", "spill", "spill"], groups.Select(g => g.GetProperty("labels").GetProperty("tier").GetString()).Order());
            }
            using (var services = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(PrometheusTargets.Folder(home.Path), "services.json"))))
                Assert.Equal(new Uri(created.Endpoint).Authority, services.RootElement[0].GetProperty("targets")[0].GetString());

            await client.UpdateAsync("svc", new UpdateServiceRequest { MinReplicas = 2 }, CancellationToken.None).WaitAsync(Deadline);
            var two = await WaitAsync(client, v => v.Replicas.Count == 2 && v.ReadyReplicas == 2, pids);
            Assert.Equal(["base", "spill"], two.Replicas.Select(r => r.Tier).Order().ToArray());

            var error = await Assert.ThrowsAsync<DaemonApiException>(() => client.GetAsync("nope", CancellationToken.None).WaitAsync(Deadline));
            Assert.Equal(404, error.StatusCode);

            await client.DeleteAsync("svc", CancellationToken.None).WaitAsync(Deadline);
            Assert.Empty(await client.ListAsync(CancellationToken.None).WaitAsync(Deadline));
            Assert.All(pids, pid => Assert.False(ProviderTestSupport.IsAlive(pid), $"pid {pid} still runs"));
        }
        finally
        {
            await daemon.DisposeAsync();
            KillAll(pids);
        }
    }

    internal static async Task<ServiceView> WaitAsync(DaemonClient client, Func<ServiceView, bool> condition, HashSet<int> pids)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var view = await client.GetAsync("svc", CancellationToken.None).WaitAsync(Deadline);
            foreach (var r in view.Replicas)
            {
                if (r.Pid is { } pid)
                    pids.Add(pid);
            }
            if (condition(view))
                return view;
            Assert.True(DateTime.UtcNow < deadline, "timed out; last: " + string.Join(", ", view.Replicas.Select(r => $"{r.Id}:{r.Tier}:{r.Status}")));
            await Task.Delay(100);
        }
    }

    internal static void KillAll(IEnumerable<int> pids)
    {
        foreach (var pid in pids)
        {
            try
            {
                if (ProviderTestSupport.IsAlive(pid))
                    System.Diagnostics.Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }
    }
}
