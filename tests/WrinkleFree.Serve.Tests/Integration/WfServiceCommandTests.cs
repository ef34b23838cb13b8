using System.Text.Json;
using WrinkleFree.Serve.Daemon;
using WrinkleFree.Serve.Tests.Controller;
using WrinkleFree.Serve.Tests.Providers;
using WrinkleFree.Serve.Tests.State;

namespace WrinkleFree.Serve.Tests.Integration;

/// <summary>`wf up/status/update/down` end to end: the CLI and the daemon as real processes, fake-upstream replicas, two local tiers.</summary>
public sealed class WfServiceCommandTests
{
    private static readonly TimeSpan Deadline = WfCli.Deadline;

    [Fact]
    public async Task Up_TwoLocalTiers_SpillsOnUpdateLeavesPaidTierFirstAndDownStopsAll()
    {
        using var home = new TempHome();
        var wf = new WfCli(home.Path);
        var pids = new HashSet<int>();
        var spec = Path.Combine(home.Path, "svc.yaml");
        await File.WriteAllTextAsync(spec, ControllerHarness.SpecYaml(1).Replace("    path: /health\n", "    path: /health\n    endpoint_probe_interval_seconds: 1\n", StringComparison.Ordinal));
        try
        {
            var up = await wf.RunAsync("up", spec, "--name", "svc", "--detach");
            Assert.True(up.ExitCode == 0, up.Stderr);
            Assert.Contains("service svc: http://127.0.0.1:", up.Stdout, StringComparison.Ordinal);
            using var client = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline))!;
            Assert.NotNull(client);

            await ServiceDaemonTests.WaitAsync(client, v => v.ReadyReplicas == 1, pids);
            var status = await StatusJsonAsync(wf);
            var replica = status.GetProperty("replicas")[0];
            Assert.Equal("base", replica.GetProperty("tier").GetString());
            Assert.Equal("READY", replica.GetProperty("status").GetString());
            Assert.Equal(0.0, replica.GetProperty("cost_per_hour").GetDouble());
            Assert.True(ProviderTestSupport.IsAlive(replica.GetProperty("pid").GetInt32()));
            Assert.StartsWith("http://127.0.0.1:", status.GetProperty("endpoint").GetString(), StringComparison.Ordinal);

            var update = await wf.RunAsync("update", "svc", "--min-replicas", "3");
            Assert.True(update.ExitCode == 0, update.Stderr);
            var three = await ServiceDaemonTests.WaitAsync(client, v => v.ReadyReplicas == 3, pids);
            Assert.Equal(["base", "spill", "spill"], three.Replicas.Select(r => r.Tier).Order().ToArray());

            // A daemon killed outright: the next `wf up` starts another, which adopts every replica and launches none.
            var daemonPid = DaemonInfo.TryRead(home.Path)!.Pid;
            System.Diagnostics.Process.GetProcessById(daemonPid).Kill();
            await ProviderTestSupport.WaitUntilAsync(() => Task.FromResult(!ProviderTestSupport.IsAlive(daemonPid)), "the daemon to die");
            var noDaemon = await wf.RunAsync("status");
            Assert.Equal(1, noDaemon.ExitCode);
            Assert.Contains("not running", noDaemon.Stderr, StringComparison.Ordinal);
            var again = await wf.RunAsync("up", spec, "--name", "svc", "--detach");
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("already exists", again.Stderr, StringComparison.Ordinal);
            using var client2 = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline))!;
            var adopted = await ServiceDaemonTests.WaitAsync(client2, v => v.ReadyReplicas == 3, pids);
            Assert.Equal(three.Replicas.Select(r => (r.Id, r.Pid)), adopted.Replicas.Select(r => (r.Id, r.Pid)));

            update = await wf.RunAsync("update", "svc", "--min-replicas", "1");
            Assert.True(update.ExitCode == 0, update.Stderr);
            var one = await ServiceDaemonTests.WaitAsync(client2, v => v.Replicas.Count == 1 && v.ReadyReplicas == 1, pids);
            Assert.Equal("base", one.Replicas.Single().Tier);

            var logs = await wf.RunAsync("logs", "svc", one.Replicas.Single().Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--tail", "20");
            Assert.True(logs.ExitCode == 0, logs.Stderr);
            Assert.Contains("fake upstream listening on", logs.Stdout, StringComparison.Ordinal);

            var down = await wf.RunAsync("down", "svc");
            Assert.True(down.ExitCode == 0, down.Stderr);
            Assert.All(pids, pid => Assert.False(ProviderTestSupport.IsAlive(pid), $"replica pid {pid} still runs"));
            var unknown = await wf.RunAsync("status", "svc");
            Assert.Equal(1, unknown.ExitCode);
            Assert.Contains("no service named 'svc'", unknown.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            if (DaemonInfo.TryRead(home.Path) is { ProcessExists: true } daemon)
                pids.Add(daemon.Pid);
            ServiceDaemonTests.KillAll(pids);
        }
    }

    private static async Task<JsonElement> StatusJsonAsync(WfCli wf)
    {
        var status = await wf.RunAsync("status", "--json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        using var doc = JsonDocument.Parse(status.Stdout);
        return doc.RootElement.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "svc").Clone();
    }
}
