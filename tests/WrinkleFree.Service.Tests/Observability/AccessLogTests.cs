using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Endpoint;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Service.Tests.Integration;
using WrinkleFree.Service.Tests.Providers;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Observability;

/// <summary>
/// Request ids and logs across real processes: a `wf replica` writing its log file as the local provider launches it, the
/// YARP load balancer in front, and the whole service through `wf up` (supervisor, daemon, endpoint process, replica) with
/// JSON logs and a small rotation size.
/// </summary>
public sealed partial class AccessLogTests
{
    private static readonly TimeSpan Deadline = ReplicaProcess.Deadline;

    [Fact]
    public async Task LoadBalancer_ClientRequestId_ReachesTheReplicasAccessLineAndComesBack()
    {
        using var home = new TempHome();
        await using var replica = await ReplicaProcess.StartAsync(Path.Combine(home.Path, "replica.log"));
        await using var balancer = await ServiceLoadBalancer.StartAsync(new ServiceLoadBalancerOptions()).WaitAsync(Deadline);
        balancer.UpdateReplicas([new ReplicaEndpoint("1", replica.Address, Ready: true)]);
        using var http = new HttpClient { Timeout = Deadline };

        string sent, made, direct;
        using (var response = await ReplicaProcess.CompleteAsync(http, balancer.BaseUrl, requestId: "client-id-42"))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            sent = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        }

        using (var response = await ReplicaProcess.CompleteAsync(http, balancer.BaseUrl))
        {
            made = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        }

        // Sent straight to the replica with an id no log line should carry (too long): the replica makes up its own.
        using (var response = await ReplicaProcess.CompleteAsync(http, replica.Address, requestId: new string('x', 200)))
        {
            direct = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        }

        using (var health = await http.GetAsync(new Uri(replica.Address, "health")).WaitAsync(Deadline))
        {
            Assert.True(health.Headers.Contains("X-Request-Id"));
        }

        Assert.Equal("client-id-42", sent);
        Assert.Matches(HexId(), made);
        Assert.Matches(HexId(), direct);

        string[] log = [];
        await ProviderTestSupport.WaitUntilAsync(
            async () => (log = await replica.ReadLogAsync()).Count(l => l.Contains("WrinkleFree.Replica.Access", StringComparison.Ordinal)) >= 3,
            "three access lines in the replica's log");
        var line = Assert.Single(log, l => l.EndsWith("request_id=client-id-42", StringComparison.Ordinal));
        var access = TextAccessLine().Match(line);
        Assert.True(access.Success, line);
        Assert.True(int.Parse(access.Groups["prompt"].Value, CultureInfo.InvariantCulture) > 0, line);
        Assert.Equal("4", access.Groups["generated"].Value);
        Assert.True(double.Parse(access.Groups["ttft"].Value, CultureInfo.InvariantCulture) <= double.Parse(access.Groups["duration"].Value, CultureInfo.InvariantCulture), line);
        Assert.Single(log, l => l.EndsWith("request_id=" + made, StringComparison.Ordinal));
        Assert.Single(log, l => l.EndsWith("request_id=" + direct, StringComparison.Ordinal));
        // Probes are logged at Debug: the controller and Prometheus would otherwise fill the log.
        Assert.DoesNotContain(log, l => l.Contains("GET /health", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Service_JsonLogsAndSmallRotationSize_ReplicaLogsEachRequestWithItsIdAndRotatesWhileEndpointAndDaemonLogNone()
    {
        using var home = new TempHome();
        var wf = new WfCli(home.Path, new Dictionary<string, string> { ["WF_LOG_FORMAT"] = "json", ["WF_LOG_MAX_BYTES"] = "16384" });
        var pids = new HashSet<int>();
        var spec = Path.Combine(home.Path, "svc.yaml");
        await File.WriteAllTextAsync(spec, ReplicaProcess.ServiceSpec());
        try
        {
            var up = await wf.RunAsync("up", spec, "--name", "svc", "--detach");
            Assert.True(up.ExitCode == 0, up.Stderr);
            using var client = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline))!;
            var view = await ServiceDaemonTests.WaitAsync(client, v => v.ReadyReplicas == 1, pids);
            var endpoint = new Uri(view.Endpoint + "/");
            var replicaLog = Path.Combine(home.Path, "logs", "svc", view.Replicas.Single().Id.ToString(CultureInfo.InvariantCulture) + ".log");

            // About 600 bytes of JSON per access line: 40 requests pass the 16 KiB rotation size.
            var ids = Enumerable.Range(1, 40).Select(i => $"obs-{i:D4}").ToList();
            using var http = new HttpClient { Timeout = Deadline };
            foreach (var id in ids)
            {
                using var response = await ReplicaProcess.CompleteAsync(http, endpoint, id);
                Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(id, Assert.Single(response.Headers.GetValues("X-Request-Id")));
            }

            // The replica checks its log's size once a second; one more request after that lands in the fresh file.
            await ProviderTestSupport.WaitUntilAsync(() => Task.FromResult(File.Exists(replicaLog + ".1")), "the replica's log to rotate");
            using (var last = await ReplicaProcess.CompleteAsync(http, endpoint, "obs-last"))
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, last.StatusCode);
            }

            List<JsonElement> replicaLines = [];
            await ProviderTestSupport.WaitUntilAsync(() =>
            {
                replicaLines = JsonLines(replicaLog);
                return Task.FromResult(replicaLines.Any(l => RequestIdOf(l) == "obs-last"));
            }, "the last request's access line");

            // Every request has its line, with its fields as JSON, wherever rotation put it (copy-truncate loses a line only
            // in the instant between the copy and the truncate).
            var access = replicaLines.Where(l => l.GetProperty("Category").GetString() == "WrinkleFree.Replica.Access").ToList();
            var logged = access.Select(RequestIdOf).ToHashSet();
            var missing = ids.Where(id => !logged.Contains(id)).ToList();
            Assert.True(missing.Count <= 1, $"no access line for {string.Join(", ", missing)}");
            var first = access.First(l => RequestIdOf(l) == "obs-last").GetProperty("State");
            Assert.Equal("POST", first.GetProperty("Method").GetString());
            Assert.Equal("/v1/completions", first.GetProperty("Route").GetString());
            Assert.Equal(200, first.GetProperty("Status").GetInt32());
            Assert.True(first.GetProperty("PromptTokens").GetInt32() > 0);
            Assert.Equal(4, first.GetProperty("GeneratedTokens").GetInt32());
            Assert.True(first.GetProperty("DurationMs").GetDouble() > 0);
            Assert.True(new FileInfo(replicaLog + ".1").Length >= 16384);
            Assert.Contains(replicaLines, l => l.GetProperty("EventId").GetInt32() == 1007);

            // The endpoint process (the load balancer) and the daemon log in JSON too, and name no request: no line per
            // request, none of YARP's two per proxied one.
            foreach (var log in new[] { EndpointPaths.Log(home.Path, "svc"), Path.Combine(home.Path, "logs", "daemon.log") })
            {
                var lines = JsonLines(log);
                Assert.True(lines.Count > 0, $"{log} is empty");
                Assert.DoesNotContain(lines, l => l.GetProperty("Category").GetString()!.StartsWith("Yarp", StringComparison.Ordinal));
                Assert.DoesNotContain(lines, l => l.GetRawText().Contains("obs-", StringComparison.Ordinal));
            }

            var down = await wf.RunAsync("down", "svc");
            Assert.True(down.ExitCode == 0, down.Stderr);
        }
        finally
        {
            WfServiceCommandTests.KillBackground(home.Path, pids);
        }
    }

    /// <summary>
    /// The lines of a log and its rotated copies (oldest first), each parsed as one JSON object with the formatter's fields;
    /// the local provider's plain "--- wf: replica N of S ... starting ---" line, written before each launch, is skipped.
    /// </summary>
    private static List<JsonElement> JsonLines(string log)
    {
        var files = Enumerable.Range(1, 3).Reverse().Select(n => $"{log}.{n}").Append(log).Where(File.Exists);
        var lines = new List<JsonElement>();
        foreach (var file in files)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0 || line.StartsWith("--- wf: replica ", StringComparison.Ordinal))
                    continue;
                JsonElement element;
                try
                {
                    element = JsonDocument.Parse(line).RootElement.Clone();
                }
                catch (JsonException e)
                {
                    throw new Xunit.Sdk.XunitException($"{Path.GetFileName(file)} has a line that is not JSON ({e.Message}): {line}");
                }
                foreach (var field in new[] { "Timestamp", "LogLevel", "Category", "Message" })
                    Assert.True(element.TryGetProperty(field, out _), $"{Path.GetFileName(file)}: no {field} in {line}");
                lines.Add(element);
            }
        }
        return lines;
    }

    private static string? RequestIdOf(JsonElement line) =>
        line.TryGetProperty("State", out var state) && state.TryGetProperty("RequestId", out var id) ? id.GetString() : null;

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex HexId();

    [GeneratedRegex(@"WrinkleFree\.Replica\.Access\[3002\] POST /v1/completions 200 prompt_tokens=(?<prompt>\d+) generated_tokens=(?<generated>\d+) ttft_ms=(?<ttft>[\d.]+) duration_ms=(?<duration>[\d.]+) request_id=")]
    private static partial Regex TextAccessLine();
}
