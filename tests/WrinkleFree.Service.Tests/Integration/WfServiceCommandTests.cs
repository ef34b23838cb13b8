using System.Text.Json;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Tests.Controller;
using WrinkleFree.Service.Tests.Providers;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Integration;

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
            // `wf up` of the same spec again changes nothing and says where the service is.
            var same = await wf.RunAsync("up", spec, "--name", "svc");
            Assert.True(same.ExitCode == 0, same.Stderr);
            Assert.Contains("service svc is already up with this spec (READY): http://127.0.0.1:", same.Stdout, StringComparison.Ordinal);
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

            // A daemon killed outright under load: the endpoint is a process of its own and keeps serving (not one
            // request fails), the supervisor starts another daemon, which adopts every replica and launches none.
            var daemonPid = DaemonInfo.TryRead(home.Path)!.Pid;
            await using (var load = new LoadGenerator(new Uri(three.Endpoint), 30))
            {
                await ProviderTestSupport.WaitUntilAsync(() => Task.FromResult(load.Succeeded > 30), "load before the kill");
                System.Diagnostics.Process.GetProcessById(daemonPid).Kill();
                await ProviderTestSupport.WaitUntilAsync(() => Task.FromResult(!ProviderTestSupport.IsAlive(daemonPid)), "the daemon to die");
                await ProviderTestSupport.WaitUntilAsync(
                    () => Task.FromResult(DaemonInfo.TryRead(home.Path) is { ProcessExists: true } d && d.Pid != daemonPid), "the supervisor to start a new daemon");
                var during = load.Succeeded;
                await ProviderTestSupport.WaitUntilAsync(() => Task.FromResult(load.Succeeded > during + 30), "load after the restart");
                await load.StopAsync();
                Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} of {load.Succeeded + load.Failures.Count} requests failed:\n" + string.Join("\n", load.Failures.Take(5)));
            }
            // `wf up` of the first spec again: the service now runs another (min 3), so it says to use `wf update`.
            var different = await wf.RunAsync("up", spec, "--name", "svc", "--detach");
            Assert.Equal(1, different.ExitCode);
            Assert.Contains("already exists with a different spec: `wf update svc SPEC`", different.Stderr, StringComparison.Ordinal);
            using var client2 = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline))!;
            var adopted = await ServiceDaemonTests.WaitAsync(client2, v => v.ReadyReplicas == 3, pids);
            Assert.Equal(three.Replicas.Select(r => (r.Id, r.Pid)), adopted.Replicas.Select(r => (r.Id, r.Pid)));
            Assert.Equal(three.Endpoint, adopted.Endpoint);
            var daemonStatus = await wf.RunAsync("daemon", "status", "--json");
            Assert.True(daemonStatus.ExitCode == 0, daemonStatus.Stderr);
            using (var report = JsonDocument.Parse(daemonStatus.Stdout))
            {
                Assert.Equal(1, report.RootElement.GetProperty("supervisor").GetProperty("restarts").GetInt32());
                Assert.Contains($"exit code 137", report.RootElement.GetProperty("supervisor").GetProperty("last_exit").GetString(), StringComparison.Ordinal);
                var endpoint = report.RootElement.GetProperty("endpoints").EnumerateArray().Single();
                Assert.True(endpoint.GetProperty("alive").GetBoolean());
                Assert.Equal(new Uri(three.Endpoint), new Uri(endpoint.GetProperty("url").GetString()!));
            }

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

            // `wf daemon stop` takes the supervisor and the daemon down for good (nothing restarts it) and says so.
            var supervisor = DaemonSupervisor.TryRead(home.Path)!;
            var lastDaemon = DaemonInfo.TryRead(home.Path)!.Pid;
            var stop = await wf.RunAsync("daemon", "stop");
            Assert.True(stop.ExitCode == 0, stop.Stderr);
            Assert.Contains("Stopped the daemon and its supervisor", stop.Stdout, StringComparison.Ordinal);
            Assert.False(ProviderTestSupport.IsAlive(supervisor.Pid));
            Assert.False(ProviderTestSupport.IsAlive(lastDaemon));
            var stopped = await wf.RunAsync("daemon", "status");
            Assert.Equal(1, stopped.ExitCode);
            Assert.Contains("The daemon is not running", stopped.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            KillBackground(home.Path, pids);
        }
    }

    /// <summary>
    /// One daemon for four checks: `wf update NAME SPEC` rolls with a ready replica at every poll and no failed request;
    /// the balancer's policy changes only when the spec's does (and then without a roll); piped `wf status` fits 80
    /// columns while --json keeps its fields; `wf up` of a min-0 service returns and its first request wakes a replica.
    /// </summary>
    [Fact]
    public async Task Update_Spec_PolicyChangesOnlyWhenTheSpecDoesRollingUpdateKeepsAReadyReplicaAndStatusFits80Columns()
    {
        using var home = new TempHome();
        var wf = new WfCli(home.Path);
        var pids = new HashSet<int>();
        string SpecFile(string version, string policy)
        {
            var path = Path.Combine(home.Path, $"svc-{version}.yaml");
            File.WriteAllText(path, ServiceEndToEndTests.Spec(
                policy: "    min_replicas: 2\n", balancer: $"  load_balancing_policy: {policy}\n", extra: $"envs: {{V: \"{version}\"}}\n"));
            return path;
        }
        try
        {
            var up = await wf.RunAsync("up", SpecFile("1", "round_robin"), "--name", "svc", "--detach");
            Assert.True(up.ExitCode == 0, up.Stderr);
            using var client = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline))!;
            var v1 = await ServiceDaemonTests.WaitAsync(client, v => v.ReadyReplicas == 2, pids);
            var endpoint = new Uri(v1.Endpoint);
            using var http = new HttpClient { Timeout = Deadline };
            Assert.Equal("round_robin", (await HealthAsync(http, endpoint)).Policy);

            // The run environment changes: a rolling update. A poller watches the endpoint all along.
            using var stopPolling = new CancellationTokenSource();
            var (polls, empty) = (0, new List<string>());
            var poller = Task.Run(async () =>
            {
                while (!stopPolling.IsCancellationRequested)
                {
                    var (status, ready, _) = await HealthAsync(http, endpoint);
                    polls++;
                    if (status != 200 || ready == 0)
                        empty.Add($"poll {polls}: HTTP {status}, {ready} ready");
                    await Task.Delay(20);
                }
            });
            await using var load = new LoadGenerator(endpoint, 20);
            var update = await wf.RunAsync("update", "svc", SpecFile("2", "round_robin"));
            Assert.True(update.ExitCode == 0, update.Stderr);
            var v2 = await ServiceDaemonTests.WaitAsync(client, v => v.Replicas.Count == 2 && v.ReadyReplicas == 2 && v.Replicas.All(r => r.Version == 2), pids);
            await stopPolling.CancelAsync();
            await poller.WaitAsync(Deadline);
            await load.StopAsync();

            Assert.True(empty.Count == 0, string.Join("\n", empty));
            Assert.True(polls > 10, $"only {polls} polls");
            Assert.True(load.Failures.Count == 0, string.Join("\n", load.Failures.Take(5)));
            Assert.Empty(v2.Replicas.Select(r => r.Id).Intersect(v1.Replicas.Select(r => r.Id)));
            Assert.Equal("round_robin", (await HealthAsync(http, endpoint)).Policy);

            // Only the policy changes: it applies to the running balancer, and nothing rolls.
            update = await wf.RunAsync("update", "svc", SpecFile("2", "least_requests"));
            Assert.True(update.ExitCode == 0, update.Stderr);
            await ProviderTestSupport.WaitUntilAsync(async () => (await HealthAsync(http, endpoint)).Policy == "least_requests", "the new policy");
            // Status names the new version as soon as the update is answered, though the tick that applies it may still run;
            // the status page's data says the same.
            var v3 = await client.GetAsync("svc", CancellationToken.None).WaitAsync(Deadline);
            Assert.Equal(3, v3.Version);
            Assert.Equal(3, await StatusPageVersionAsync(client, "svc"));
            Assert.Equal(v2.Replicas.Select(r => (r.Id, r.Pid)), v3.Replicas.Select(r => (r.Id, r.Pid)));

            // Piped output: nothing wider than 80 columns, endpoint and pids intact; --json as before.
            foreach (var args in new[] { new[] { "status" }, ["status", "svc"], ["status", "--all"] })
            {
                var status = await wf.RunAsync(args);
                Assert.True(status.ExitCode == 0, status.Stderr);
                var lines = status.Stdout.Split('\n');
                Assert.All(lines, line => Assert.True(line.Length <= 80, $"`wf {string.Join(' ', args)}` line of {line.Length} columns:\n{status.Stdout}"));
                Assert.DoesNotContain('\u001b', status.Stdout);
                Assert.Contains(v3.Endpoint, status.Stdout, StringComparison.Ordinal);
                Assert.Contains("READY", status.Stdout, StringComparison.Ordinal);
                if (args.Length > 1)
                    Assert.All(v3.Replicas, r => Assert.Contains(r.Pid!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), status.Stdout, StringComparison.Ordinal));
            }
            var json = await StatusJsonAsync(wf);
            Assert.Equal(["name", "version", "status", "endpoint", "created_at", "target_replicas", "ready_replicas", "qps", "cost_per_hour", "replicas", "auth", "failure", "last_failure", "last_failed_replica", "next_launch_at"],
                json.EnumerateObject().Select(p => p.Name));
            Assert.Equal(["id", "tier", "status", "endpoint", "cost_per_hour", "pid", "version", "launched", "failure_reason"],
                json.GetProperty("replicas")[0].EnumerateObject().Select(p => p.Name));

            var down = await wf.RunAsync("down", "svc");
            Assert.True(down.ExitCode == 0, down.Stderr);

            // Scale from zero through the daemon: `wf up` returns instead of waiting for a replica, the first request wakes one.
            var coldSpec = Path.Combine(home.Path, "cold.yaml");
            await File.WriteAllTextAsync(coldSpec, ServiceEndToEndTests.Spec(policy: "    min_replicas: 0\n    max_replicas: 1\n    target_qps_per_replica: 1\n    downscale_delay_seconds: 600\n"));
            var cold = await wf.RunAsync("up", coldSpec, "--name", "cold");
            Assert.True(cold.ExitCode == 0, cold.Stderr);
            Assert.Contains("service cold scales from zero", cold.Stdout, StringComparison.Ordinal);
            var coldView = await client.GetAsync("cold", CancellationToken.None).WaitAsync(Deadline);
            Assert.Empty(coldView.Replicas);
            using (var first = await http.GetAsync(new Uri(new Uri(coldView.Endpoint), "/v1/models")))
                Assert.Equal(System.Net.HttpStatusCode.OK, first.StatusCode);
            await WaitForAsync(client, "cold", v => v.ReadyReplicas == 1, pids);
            down = await wf.RunAsync("down", "cold");
            Assert.True(down.ExitCode == 0, down.Stderr);
        }
        finally
        {
            KillBackground(home.Path, pids);
        }
    }

    /// <summary>
    /// The issue's first user: a spec as the design writes it (no run:) whose MODEL_PATH is wrong. `wf up` shows each
    /// failure with the replica's own reason, backs off, gives up with a non-zero exit once the service is FAILED, and
    /// `wf events` shows the backoff.
    /// </summary>
    [Fact]
    public async Task Up_WrongModelPath_FailsWithTheReasonAfterBackingOff()
    {
        using var home = new TempHome();
        var wf = new WfCli(home.Path);
        var pids = new HashSet<int>();
        var spec = Path.Combine(home.Path, "broken.yaml");
        await File.WriteAllTextAsync(spec, """
            service:
              readiness_probe:
                path: /health
                endpoint_probe_interval_seconds: 1
              replicas: 1
              failure_policy:
                max_failures: 3
                initial_backoff_seconds: 1
                max_backoff_seconds: 2
            envs:
              BACKEND: bitnet
              MODEL_PATH: /nope/missing.gguf
              WF_PEAK_BANDWIDTH_GBPS: 50
            """);
        try
        {
            var up = await wf.RunAsync("up", spec, "--name", "broken", "--timeout", "50");
            Assert.True(up.ExitCode == 1, up.Stdout + up.Stderr);
            Assert.Contains("replica 1 FAILED: exited with code 1: the model failed to load: model file '/nope/missing.gguf' does not exist", up.Stderr, StringComparison.Ordinal);
            Assert.Contains("`wf logs broken 1`", up.Stderr, StringComparison.Ordinal);
            Assert.Contains("service broken FAILED: 3 replica failures within 600 s", up.Stderr, StringComparison.Ordinal);
            Assert.Contains("`wf update broken SPEC`", up.Stderr, StringComparison.Ordinal);

            var events = await wf.RunAsync("events", "broken", "--json");
            Assert.True(events.ExitCode == 0, events.Stderr);
            var kinds = events.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("kind").GetString()).ToList();
            Assert.Equal(2, kinds.Count(k => k == "backoff"));
            Assert.Equal(3, kinds.Count(k => k == "replica_failed"));
            Assert.Single(kinds, k => k == "service_failed");

            var status = await wf.RunAsync("status", "broken");
            Assert.True(status.ExitCode == 0, status.Stderr);
            Assert.Contains("broken FAILED: 3 replica failures", status.Stdout, StringComparison.Ordinal);
            var down = await wf.RunAsync("down", "broken");
            Assert.True(down.ExitCode == 0, down.Stderr);
        }
        finally
        {
            KillBackground(home.Path, pids);
        }
    }

    /// <summary>The version the status page's data.json gives the service, read through a one-time link's session cookie.</summary>
    private static async Task<int> StatusPageVersionAsync(DaemonClient client, string name)
    {
        var link = await client.StatusLinkAsync(CancellationToken.None).WaitAsync(Deadline);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false }) { Timeout = Deadline };
        using var login = await http.GetAsync(link).WaitAsync(Deadline);
        var session = login.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(link, "/status/data.json"));
        request.Headers.Add("Cookie", session);
        using var response = await http.SendAsync(request).WaitAsync(Deadline);
        response.EnsureSuccessStatusCode();
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("services").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name).GetProperty("version").GetInt32();
    }

    private static async Task WaitForAsync(DaemonClient client, string name, Func<ServiceView, bool> condition, HashSet<int> pids)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var view = await client.GetAsync(name, CancellationToken.None).WaitAsync(Deadline);
            foreach (var r in view.Replicas)
            {
                if (r.Pid is { } pid)
                    pids.Add(pid);
            }
            if (condition(view))
                return;
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting on {name}; last: " + string.Join(", ", view.Replicas.Select(r => $"{r.Id}:{r.Status}")));
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Kills what `wf up` left running: the supervisor first (else it starts another daemon), then the daemon, the
    /// endpoint processes and the replicas.
    /// </summary>
    internal static void KillBackground(string home, HashSet<int> pids)
    {
        if (DaemonSupervisor.TryRead(home) is { } supervisor)
            ServiceDaemonTests.KillAll([supervisor.Pid]);
        if (DaemonInfo.TryRead(home) is { ProcessExists: true } daemon)
            pids.Add(daemon.Pid);
        var endpoints = Service.Endpoint.EndpointPaths.Folder(home);
        if (Directory.Exists(endpoints))
        {
            foreach (var file in Directory.GetFiles(endpoints, "*.json"))
            {
                if (Service.Endpoint.EndpointHost.ReadIdentity(home, Path.GetFileNameWithoutExtension(file)) is { } e)
                    pids.Add(e.Pid);
            }
        }
        ServiceDaemonTests.KillAll(pids);
    }

    /// <summary>The service endpoint's own /health: status code, ready replicas and the balancer's policy.</summary>
    private static async Task<(int Status, int Ready, string? Policy)> HealthAsync(HttpClient http, Uri endpoint)
    {
        using var response = await http.GetAsync(new Uri(endpoint, "/health"));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return ((int)response.StatusCode, doc.RootElement.GetProperty("ready_replicas").GetInt32(), doc.RootElement.GetProperty("load_balancing_policy").GetString());
    }

    private static async Task<JsonElement> StatusJsonAsync(WfCli wf)
    {
        var status = await wf.RunAsync("status", "--json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        using var doc = JsonDocument.Parse(status.Stdout);
        return doc.RootElement.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "svc").Clone();
    }
}
