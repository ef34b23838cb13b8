using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Cloud;

namespace WrinkleFree.Replica.Tests.Interruption;

/// <summary>
/// Spot interruption notices against the instance metadata test double: a notice drains the replica (/health 503
/// draining with the reason, generations refused with code "draining", in-flight streams finish, /metrics shows it),
/// IMDSv2 tokens are used and renewed, and a metadata service that cannot be reached never stops the serving.
/// </summary>
public sealed class InterruptionNoticeTests
{
    private static readonly DateTimeOffset TerminatesAt = new(2030, 1, 1, 0, 2, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("aws")]
    [InlineData("gcp")]
    public async Task InterruptionNotice_NoticeDuringAStream_DrainsRefusesNewWorkAndFinishesTheStream(string cloud)
    {
        // The stream has to be in flight when the notice takes effect. The engine generates into an unbounded channel, so
        // an unread response does not hold it back, and 400 tokens of the tiny model can finish before the notice is
        // seen on a busy machine: then nothing was tested, and the scenario runs again on a fresh replica (a few times
        // at most).
        for (var attempt = 1; ; attempt++)
        {
            await using var metadata = await InstanceMetadataTestDouble.StartAsync().WaitAsync(TestReplica.Timeout);
            await using var host = await StartAsync(cloud, metadata.Url);
            using var client = TestReplica.Client(host);
            var (okStatus, ok) = await TestReplica.GetAsync(client, "/health");
            Assert.Equal(200, okStatus);
            Assert.False(ok.TryGetProperty("reason", out _));

            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent(TestReplica.Json(new { prompt = "Long story", max_tokens = 400, stream = true, stream_options = new { include_usage = true } }), Encoding.UTF8, "application/json"),
            };
            using var stream = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestReplica.Timeout);
            // The notice comes after the replica's first look at the metadata service (on a loaded machine that look can
            // come late): what is tested is a notice arriving while it watches, not one already there when it starts.
            for (var waited = 0; metadata.Requests.Count == 0; waited += 20)
            {
                Assert.True(waited < TestReplica.Timeout.TotalMilliseconds, "the replica never asked the metadata service");
                await Task.Delay(20);
            }

            metadata.IssueNotice(TerminatesAt);
            var health = await WaitForStatusAsync(client, "draining");

            Assert.StartsWith($"spot interruption notice ({cloud}), instance terminates at", health.GetProperty("reason").GetString());
            Assert.Equal(cloud, health.GetProperty("interruption_notice").GetProperty("cloud").GetString());
            if (health.GetProperty("active_requests").GetInt32() < 1 && attempt < 5)
            {
                continue;
            }

            Assert.True(health.GetProperty("active_requests").GetInt32() >= 1, "the stream was in flight when the replica drained");
            var (refusedStatus, refused, refusedResponse) = await TestReplica.PostAsync(client, "/v1/completions", TestReplica.Json(new { prompt = "hi", max_tokens = 2 }));
            refusedResponse.Dispose();
            Assert.Equal(503, refusedStatus);
            Assert.Equal("draining", refused.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains($"spot interruption notice ({cloud})", refused.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

            var (events, done) = await TestReplica.ReadSseAsync(stream);
            Assert.True(done);
            Assert.Equal(400, events[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
            var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)).WaitAsync(TestReplica.Timeout);
            Assert.Contains("\nwf_replica_interruption_notice 1\n", metrics, StringComparison.Ordinal);
            Assert.DoesNotContain("\nwf_replica_interruption_time_seconds 0\n", metrics, StringComparison.Ordinal);
            if (cloud == "aws")
            {
                Assert.Contains("2030-01-01T00:02:00Z", health.GetProperty("reason").GetString(), StringComparison.Ordinal);
                Assert.Contains($"\nwf_replica_interruption_time_seconds {TerminatesAt.ToUnixTimeSeconds()}\n", metrics, StringComparison.Ordinal);
            }
            else
            {
                // The notice came through a long poll that waited on the last ETag, not through repeated asking.
                Assert.Contains(metadata.Requests, r => r.Contains("wait_for_change=true&last_etag=", StringComparison.Ordinal) && r.EndsWith(" 200", StringComparison.Ordinal));
            }

            return;
        }
    }

    [Fact]
    public async Task InterruptionNotice_Aws_UsesOneImdsV2TokenAndRenewsItWhenRevoked()
    {
        await using var metadata = await InstanceMetadataTestDouble.StartAsync().WaitAsync(TestReplica.Timeout);
        using (var direct = new HttpClient { Timeout = TestReplica.Timeout })
        {
            // The double holds the replica to IMDSv2: a tokenless ask is refused as EC2 refuses it.
            using var tokenless = await direct.GetAsync(new Uri(metadata.Url, "latest/meta-data/spot/instance-action")).WaitAsync(TestReplica.Timeout);
            Assert.Equal(401, (int)tokenless.StatusCode);
        }

        await using var host = await StartAsync("aws", metadata.Url);
        await WaitUntilAsync(() => metadata.Requests.Count(r => r == "GET /latest/meta-data/spot/instance-action 404") >= 3, "three notice checks");
        Assert.Equal(1, metadata.TokensIssued);

        metadata.RevokeTokens();
        metadata.IssueNotice(TerminatesAt);
        using var client = TestReplica.Client(host);
        await WaitForStatusAsync(client, "draining");

        Assert.Equal(2, metadata.TokensIssued);
        Assert.Contains("GET /latest/meta-data/spot/instance-action 401", metadata.Requests);
        Assert.Equal("GET /latest/meta-data/spot/instance-action 200", metadata.Requests.Last(r => r.StartsWith("GET ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task InterruptionNotice_MetadataUnreachable_WarnsOnceKeepsServingAndSeesALaterNotice()
    {
        var port = FreePort.Next();
        var events = new ConcurrentQueue<int>();
        var options = TestReplica.Options(o => o with
        {
            InterruptionNotice = "aws",
            InstanceMetadataUrl = $"http://127.0.0.1:{port}",
            InterruptionPollInterval = TimeSpan.FromMilliseconds(20),
        });
        await using var host = await ReplicaHost.StartAsync(options, logging => logging.AddProvider(new EventIdRecorder(events))).WaitAsync(TestReplica.Timeout);
        await host.WaitUntilReadyAsync(CancellationToken.None).WaitAsync(TestReplica.Timeout);
        using var client = TestReplica.Client(host);

        // Nothing listens on the port: the checks fail for as long as the replica serves these requests.
        for (var i = 0; i < 3; i++)
        {
            var (status, _, response) = await TestReplica.PostAsync(client, "/v1/completions", TestReplica.Json(new { prompt = "hi", max_tokens = 2 }));
            response.Dispose();
            Assert.Equal(200, status);
        }

        var (healthStatus, health) = await TestReplica.GetAsync(client, "/health");
        Assert.Equal(200, healthStatus);
        Assert.Equal("ok", health.GetProperty("status").GetString());
        await WaitUntilAsync(() => events.Contains(1062), "the unreachable warning");

        await using var metadata = await InstanceMetadataTestDouble.StartAsync(port).WaitAsync(TestReplica.Timeout);
        metadata.IssueNotice(TerminatesAt);
        await WaitForStatusAsync(client, "draining");
        // The replica flips to draining and then logs it (InterruptionNoticeService.Apply): /health can answer in between.
        await WaitUntilAsync(() => events.Contains(1061), "the draining warning");

        Assert.Equal(1, events.Count(e => e == 1062));
        Assert.Contains(1063, events);
        Assert.Contains(1061, events);
    }

    [Fact]
    public void Validate_UnknownInterruptionNotice_ThrowsNamingTheFlagAndTheValues()
    {
        var options = TestReplica.Options(o => o with { InterruptionNotice = "azure" });

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("'azure'", error.Message, StringComparison.Ordinal);
        Assert.Contains("none, aws, gcp (--interruption-notice or WF_INTERRUPTION_NOTICE)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_InterruptionVariables_AreRead()
    {
        var env = new Dictionary<string, string> { ["WF_INTERRUPTION_NOTICE"] = "gcp", ["WF_INSTANCE_METADATA_URL"] = "http://127.0.0.1:9/" };

        var options = ReplicaOptions.FromEnvironment(name => env.GetValueOrDefault(name));

        Assert.Equal("gcp", options.InterruptionNotice);
        Assert.Equal("http://127.0.0.1:9/", options.InstanceMetadataUrl);
        Assert.Equal("none", new ReplicaOptions().InterruptionNotice);
    }

    [Theory]
    [InlineData("--interruption-notice", "azure", null)]
    [InlineData(null, null, "spot")]
    public async Task Replica_BadInterruptionNotice_ExitsTwoNamingTheFlagAndTheValues(string? flag, string? value, string? environment)
    {
        var psi = WfBuild.Serving.StartInfo(flag is null ? ["replica"] : ["replica", flag, value!]);
        psi.Environment["MODEL_PATH"] = TestReplica.ModelPath;
        if (environment is not null)
        {
            psi.Environment["WF_INTERRUPTION_NOTICE"] = environment;
        }

        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync().WaitAsync(TestReplica.Timeout);
        await process.WaitForExitAsync().WaitAsync(TestReplica.Timeout);
        await stdout.WaitAsync(TestReplica.Timeout);

        Assert.Equal(2, process.ExitCode);
        Assert.Contains($"'{value ?? environment}'", stderr, StringComparison.Ordinal);
        Assert.Contains("--interruption-notice", stderr, StringComparison.Ordinal);
        Assert.Contains("none, aws, gcp", stderr, StringComparison.Ordinal);
    }

    private static async Task<ReplicaHost> StartAsync(string cloud, Uri metadata) =>
        await TestReplica.StartAsync(o => o with { InterruptionNotice = cloud, InstanceMetadataUrl = metadata.ToString(), InterruptionPollInterval = TimeSpan.FromMilliseconds(20) });

    private static async Task<JsonElement> WaitForStatusAsync(HttpClient client, string status)
    {
        using var deadline = new CancellationTokenSource(TestReplica.Timeout);
        while (true)
        {
            var (code, health) = await TestReplica.GetAsync(client, "/health");
            if (health.GetProperty("status").GetString() == status)
            {
                Assert.Equal(status == "ok" ? 200 : 503, code);
                return health;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), deadline.Token);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(TestReplica.Timeout);
        while (!condition())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }
        }
    }

    /// <summary>Records the event id of every log entry (the replica's log is the only witness of "warned once").</summary>
    private sealed class EventIdRecorder(ConcurrentQueue<int> events) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Recorder(events);

        public void Dispose()
        {
        }

        private sealed class Recorder(ConcurrentQueue<int> events) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                events.Enqueue(eventId.Id);
        }
    }
}
