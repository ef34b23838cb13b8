using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Tests.Controller;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Integration;

/// <summary>
/// Specs that once took the daemon down with every load balancer in it (a 100k-deep YAML: stack overflow) or made it plan
/// without bound (replicas: 2147483647) are refused through the admin API, and the daemon keeps serving its other services.
/// </summary>
public sealed class DaemonSpecLimitsTests
{
    private static readonly TimeSpan Deadline = ControllerHarness.Deadline;

    [Fact]
    public async Task AdminApi_HostileSpecs_Refused400AndDaemonKeepsServing()
    {
        using var home = new TempHome();
        var pids = new HashSet<int>();
        var daemon = await ServiceDaemon.StartAsync(new DaemonOptions { Home = home.Path, TickInterval = TimeSpan.FromMilliseconds(200), DrainTimeout = TimeSpan.FromSeconds(5) },
            TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);
        try
        {
            using var client = await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline);
            Assert.NotNull(client);
            await client.CreateAsync(new CreateServiceRequest { Name = "svc", SpecYaml = ControllerHarness.SpecYaml(1) }, CancellationToken.None).WaitAsync(Deadline);
            var ready = await ServiceDaemonTests.WaitAsync(client, v => v.ReadyReplicas == 1, pids);

            var deep = "run: echo\nfile_mounts:\n  /a:\n    " + string.Concat(Enumerable.Repeat("- ", 100_000)) + "x\n";
            var deepFlow = "run: echo\nfile_mounts:\n  /a: " + new string('[', 100_000) + new string(']', 100_000);
            var huge = "service:\n  replicas: 2147483647\nrun: echo\n";
            foreach (var (yaml, expected) in new[] { (deep, "deeper than 64 levels"), (deepFlow, "deeper than 64 levels"), (huge, "must be <= 10000 replicas") })
            {
                var created = await Assert.ThrowsAsync<DaemonApiException>(() =>
                    client.CreateAsync(new CreateServiceRequest { Name = "evil", SpecYaml = yaml }, CancellationToken.None).WaitAsync(Deadline));
                Assert.Equal(400, created.StatusCode);
                Assert.Contains(expected, created.Message, StringComparison.Ordinal);

                var updated = await Assert.ThrowsAsync<DaemonApiException>(() =>
                    client.UpdateAsync("svc", new UpdateServiceRequest { SpecYaml = yaml }, CancellationToken.None).WaitAsync(Deadline));
                Assert.Equal(400, updated.StatusCode);
            }

            // Still up, still serving the service it had, with the same replica.
            var after = await client.GetAsync("svc", CancellationToken.None).WaitAsync(Deadline);
            Assert.Equal(1, after.ReadyReplicas);
            Assert.Equal(ready.Replicas.Single().Pid, after.Replicas.Single().Pid);
            Assert.Equal(["svc"], (await client.ListAsync(CancellationToken.None).WaitAsync(Deadline)).Select(s => s.Name).ToArray());
            using var http = new HttpClient();
            var health = await http.GetAsync(new Uri(new Uri(ready.Endpoint), "/health")).WaitAsync(Deadline);
            Assert.True((int)health.StatusCode < 500, $"endpoint answered {(int)health.StatusCode}");

            await client.DeleteAsync("svc", CancellationToken.None).WaitAsync(Deadline);
        }
        finally
        {
            await daemon.DisposeAsync();
            ServiceDaemonTests.KillAll(pids);
        }
    }
}
