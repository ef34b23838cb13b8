using System.Diagnostics;
using System.Net;
using System.Text.Json;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.State;
using WrinkleFree.Service.Tests.Controller;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Integration;

/// <summary>`wf events` as a real process against an in-process daemon (real Kestrel, real SQLite, a fake-upstream replica).</summary>
public sealed class WfEventsCommandTests
{
    private static readonly TimeSpan Deadline = WfCli.Deadline;

    [Fact]
    public async Task Events_TableJsonFollowAndErrors_ShowTheServicesLog()
    {
        using var home = new TempHome();
        var wf = new WfCli(home.Path);
        var pids = new HashSet<int>();
        var daemon = await ServiceDaemon.StartAsync(new DaemonOptions { Home = home.Path, TickInterval = TimeSpan.FromMilliseconds(200), DrainTimeout = TimeSpan.FromSeconds(5) },
            TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);
        try
        {
            using var client = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline))!;
            await client.CreateAsync(new CreateServiceRequest { Name = "svc", SpecYaml = ControllerHarness.SpecYaml(1) }, CancellationToken.None).WaitAsync(Deadline);
            await ServiceDaemonTests.WaitAsync(client, v => v.ReadyReplicas == 1, pids);
            using var store = await ServiceStore.OpenAsync(home.StatePath, TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);
            await store.AddEventAsync(ServiceEvents.ScaleUp("svc", 1, 2, "QPS 12.3 > 2 replicas × 5.0"), CancellationToken.None).WaitAsync(Deadline);

            var table = await wf.RunAsync("events", "svc");
            Assert.True(table.ExitCode == 0, table.Stderr);
            var lines = table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.StartsWith("TIME (UTC)", lines[0], StringComparison.Ordinal);
            Assert.Contains(lines, l => l.Contains(ServiceEventKinds.ServiceCreated, StringComparison.Ordinal));
            Assert.EndsWith("1 → 2 replicas: QPS 12.3 > 2 replicas × 5.0", lines[^1], StringComparison.Ordinal);

            var json = await wf.RunAsync("events", "svc", "--json", "--limit", "2");
            Assert.True(json.ExitCode == 0, json.Stderr);
            var objects = json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(2, objects.Count);
            Assert.Equal(ServiceEventKinds.ScaleUp, objects[1].GetProperty("kind").GetString());
            Assert.Equal(2, objects[1].GetProperty("details").GetProperty("to").GetInt32());
            Assert.True(objects[0].GetProperty("id").GetInt64() < objects[1].GetProperty("id").GetInt64());

            var unknown = await wf.RunAsync("events", "nope");
            Assert.Equal(1, unknown.ExitCode);
            Assert.Contains("no service named 'nope'", unknown.Stderr, StringComparison.Ordinal);
            var badLimit = await wf.RunAsync("events", "svc", "--limit", "0");
            Assert.Equal(1, badLimit.ExitCode);
            Assert.Contains("--limit must be 1..1000", badLimit.Stderr, StringComparison.Ordinal);
            using (var http = new HttpClient { Timeout = Deadline })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(daemon.Info.AdminUrl, "services/svc/events?after=-1"));
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", daemon.Info.Token);
                using var bad = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            }

            await FollowAsync(home.Path, store);
        }
        finally
        {
            await daemon.DisposeAsync();
            ServiceDaemonTests.KillAll(pids);
        }
    }

    /// <summary>`wf events --follow` prints the log, then an event added afterwards, until it is stopped.</summary>
    private static async Task FollowAsync(string home, ServiceStore store)
    {
        var info = new ProcessStartInfo(ChildProcessEntry.Dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { WfCli.Dll, "events", "svc", "--follow" })
            info.ArgumentList.Add(arg);
        info.Environment["WF_HOME"] = home;
        using var follow = Process.Start(info)!;
        try
        {
            await ReadUntilAsync(follow, l => l.Contains(ServiceEventKinds.ScaleUp, StringComparison.Ordinal));
            await store.AddEventAsync(ServiceEvents.Backoff("svc", TimeSpan.FromSeconds(40), 3, "base"), CancellationToken.None).WaitAsync(Deadline);
            var line = await ReadUntilAsync(follow, l => l.Contains(ServiceEventKinds.Backoff, StringComparison.Ordinal));
            Assert.EndsWith("3 failures on tier base: next launch in 40 s", line, StringComparison.Ordinal);
            Assert.False(follow.HasExited, "--follow keeps running");
        }
        finally
        {
            follow.Kill(entireProcessTree: true);
        }
    }

    private static async Task<string> ReadUntilAsync(Process process, Func<string, bool> match)
    {
        while (true)
        {
            var line = await process.StandardOutput.ReadLineAsync().WaitAsync(Deadline)
                ?? throw new InvalidOperationException("wf events --follow exited: " + await process.StandardError.ReadToEndAsync());
            if (match(line))
                return line;
        }
    }
}
