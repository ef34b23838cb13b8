using System.Net.Http.Json;
using System.Text.Json;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Integration;

/// <summary>`wf cost` end to end: the CLI and the daemon as real processes, a fake-upstream replica, then `wf down`.</summary>
public sealed class WfCostCommandTests
{
    private static readonly TimeSpan Deadline = WfCli.Deadline;

    [Fact]
    public async Task Cost_AfterDown_CountsEveryTokenServedAndTheReplicaHoursInTheStore()
    {
        using var home = new TempHome();
        var wf = new WfCli(home.Path);
        var pids = new HashSet<int>();
        var spec = Path.Combine(home.Path, "svc.yaml");
        await File.WriteAllTextAsync(spec, ServiceEndToEndTests.Spec(
            policy: "    min_replicas: 1\n", tiers: "  - {name: metal, provider: local, capacity: 1, cost_per_hour: 7.2}\n"));
        try
        {
            var up = await wf.RunAsync("up", spec, "--name", "svc", "--detach");
            Assert.True(up.ExitCode == 0, up.Stderr);
            using var client = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline))!;
            var ready = await ServiceDaemonTests.WaitAsync(client, v => v.ReadyReplicas == 1, pids);
            using var http = new HttpClient { BaseAddress = new Uri(ready.Endpoint), Timeout = Deadline };
            var served = 0;
            for (var i = 1; i <= 4; i++)
            {
                using var response = await http.PostAsJsonAsync("/v1/completions", new { model = "fake", prompt = "hi", max_tokens = 5 * i, stream = true });
                response.EnsureSuccessStatusCode();
                served += (await response.Content.ReadAsStringAsync()).Split('\n').Count(l => l.StartsWith("data: {", StringComparison.Ordinal) && l.Contains(" tok", StringComparison.Ordinal));
            }
            Assert.Equal(50, served);

            // The replica's counters are read one last time as it is drained, so nothing it served is lost with it.
            var down = await wf.RunAsync("down", "svc");
            Assert.True(down.ExitCode == 0, down.Stderr);

            var json = await wf.RunAsync("cost", "svc", "--since", "1h", "--json");
            Assert.True(json.ExitCode == 0, json.Stderr);
            using var report = JsonDocument.Parse(json.Stdout);
            var line = report.RootElement.GetProperty("lines").EnumerateArray().Single();
            Assert.Equal("metal", line.GetProperty("tier").GetString());
            Assert.Equal("local", line.GetProperty("provider").GetString());
            Assert.Equal(served, line.GetProperty("generated_tokens").GetInt64());
            var hours = line.GetProperty("replica_hours").GetDouble();
            Assert.InRange(hours, 1e-6, 0.5);
            Assert.Equal(hours * 7.2, line.GetProperty("dollars").GetDouble(), 9);
            Assert.Equal(hours * 7.2 * 1e6 / served, line.GetProperty("dollars_per_million_tokens").GetDouble(), 6);
            Assert.Equal(served, report.RootElement.GetProperty("total").GetProperty("generated_tokens").GetInt64());

            var table = await wf.RunAsync("cost");
            Assert.True(table.ExitCode == 0, table.Stderr);
            Assert.Contains("metal", table.Stdout, StringComparison.Ordinal);
            Assert.Contains("$/1M TOKENS", table.Stdout, StringComparison.Ordinal);
            Assert.Contains("TOTAL", table.Stdout, StringComparison.Ordinal);

            var typo = await wf.RunAsync("cost", "svx");
            Assert.Equal(1, typo.ExitCode);
            Assert.Contains("no service named 'svx' has run here", typo.Stderr, StringComparison.Ordinal);
            var badSince = await wf.RunAsync("cost", "--since", "yesterday");
            Assert.Equal(1, badSince.ExitCode);
            Assert.Contains("--since 'yesterday' is neither a duration", badSince.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            WfServiceCommandTests.KillBackground(home.Path, pids);
        }
    }
}
