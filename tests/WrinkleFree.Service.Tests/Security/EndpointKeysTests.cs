using System.Net;
using System.Text.Json;
using WrinkleFree.Service.Security;
using WrinkleFree.Service.Tests.LoadBalancing;

namespace WrinkleFree.Service.Tests.Security;

/// <summary>API keys at a real service endpoint: 401/403 in the OpenAI shape, per-key limits, the replicas' key.</summary>
public sealed class EndpointKeysTests
{
    [Fact]
    public async Task Endpoint_WithKeys_RefusesMissingUnknownRevokedExpiredAndForeignKeysButNotHealth()
    {
        await using var upstream = await UsageUpstream.StartAsync();
        var (good, goodRecord) = KeyedBalancer.NewKey();
        var (revoked, revokedRecord) = KeyedBalancer.NewKey(revoked: true);
        var (expired, expiredRecord) = KeyedBalancer.NewKey(expires: new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var (foreign, foreignRecord) = KeyedBalancer.NewKey(service: "other");
        var (everywhere, everywhereRecord) = KeyedBalancer.NewKey(service: null);
        await using var lb = await KeyedBalancer.StartAsync([goodRecord, revokedRecord, expiredRecord, foreignRecord, everywhereRecord], upstream.Endpoint());

        await ExpectErrorAsync(await lb.SendAsync(null), 401, "missing_api_key", "Authorization: Bearer");
        await ExpectErrorAsync(await lb.SendAsync(ApiKeySecret.Generate().Key), 401, "invalid_api_key", "not known");
        await ExpectErrorAsync(await lb.SendAsync(revoked), 403, "revoked_api_key", revokedRecord.Id);
        await ExpectErrorAsync(await lb.SendAsync(expired), 403, "expired_api_key", expiredRecord.Id);
        await ExpectErrorAsync(await lb.SendAsync(foreign), 403, "wrong_service", "'other'");
        await ExpectErrorAsync(await lb.SendAsync(null, "/metrics", HttpMethod.Get), 401, "missing_api_key", "Bearer");
        await ExpectErrorAsync(await lb.SendAsync(null, "/nope", HttpMethod.Get), 401, "missing_api_key", "Bearer");
        Assert.Empty(upstream.Authorizations);

        using (var health = await lb.SendAsync(null, "/health", HttpMethod.Get))
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using (var ok = await lb.SendAsync(good))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using (var ok = await lb.SendAsync(everywhere))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        // The replica sees the daemon's internal key, never the client's.
        Assert.All(upstream.Authorizations, a => Assert.Equal("Bearer " + KeyedBalancer.ReplicaKey, a));
        // Prometheus scrapes the endpoint's /metrics with the internal key.
        using (var metrics = await lb.SendAsync(KeyedBalancer.ReplicaKey, "/metrics", HttpMethod.Get))
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        await ExpectErrorAsync(await lb.SendAsync(KeyedBalancer.ReplicaKey), 401, "invalid_api_key", "not known");
    }

    [Fact]
    public async Task Endpoint_NoKeyForTheService_IsOpenAndRevokingTheLastKeyKeepsItClosed()
    {
        await using var upstream = await UsageUpstream.StartAsync();
        var (_, foreign) = KeyedBalancer.NewKey(service: "other");
        await using var lb = await KeyedBalancer.StartAsync([foreign], upstream.Endpoint());
        Assert.True(lb.Balancer.Keys.IsOpen);
        using (var open = await lb.SendAsync(null))
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);

        var (key, record) = KeyedBalancer.NewKey();
        await lb.Balancer.SetAuthAsync(EndpointAuth.From([foreign, record], KeyedBalancer.ReplicaKey), CancellationToken.None);
        await ExpectErrorAsync(await lb.SendAsync(null), 401, "missing_api_key", "Bearer");
        using (var ok = await lb.SendAsync(key))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        await lb.Balancer.SetAuthAsync(EndpointAuth.From([foreign, record with { RevokedAt = DateTimeOffset.UnixEpoch }], KeyedBalancer.ReplicaKey), CancellationToken.None);
        await ExpectErrorAsync(await lb.SendAsync(key), 403, "revoked_api_key", record.Id);
        await ExpectErrorAsync(await lb.SendAsync(null), 401, "missing_api_key", "Bearer");
    }

    [Fact]
    public async Task Endpoint_Rpm20Under50ParallelRequests_ExactlyTwentySucceedAndTheRestGet429WithRetryAfter()
    {
        await using var upstream = await UsageUpstream.StartAsync();
        var (key, record) = KeyedBalancer.NewKey(rpm: 20);
        await using var lb = await KeyedBalancer.StartAsync([record], upstream.Endpoint());

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => lb.SendAsync(key)));
        try
        {
            Assert.Equal(20, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
            var refused = responses.Where(r => r.StatusCode != HttpStatusCode.OK).ToList();
            Assert.Equal(30, refused.Count);
            foreach (var r in refused)
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode);
                Assert.True(r.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 and <= 60 }, "Retry-After in seconds within the window");
                await ExpectErrorAsync(r, 429, "rate_limit_exceeded", $"rate limit: 20 requests/min for key {record.Id}", dispose: false);
            }
        }
        finally
        {
            foreach (var r in responses)
                r.Dispose();
        }

        // The window slides: a minute later the key has its 20 again.
        lb.Time.Advance(TimeSpan.FromSeconds(61));
        using var again = await lb.SendAsync(key);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Endpoint_Tpm_CountsPromptAndCompletionTokensTheReplicaReports()
    {
        await using var upstream = await UsageUpstream.StartAsync();
        var (key, record) = KeyedBalancer.NewKey(tpm: 100);
        await using var lb = await KeyedBalancer.StartAsync([record], upstream.Endpoint());

        // 30 + 10 tokens each, as JSON and as a stream's final usage chunk: 40, 80, 120 — the fourth request is over.
        for (var i = 0; i < 3; i++)
        {
            using var ok = await lb.SendAsync(key, i == 1 ? "/v1/chat/completions?prompt=30&completion=10&stream=1" : "/v1/chat/completions?prompt=30&completion=10");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            var text = await ok.Content.ReadAsStringAsync();
            Assert.Contains("\"usage\"", text, StringComparison.Ordinal);
        }
        await ExpectErrorAsync(await lb.SendAsync(key, "/v1/chat/completions?prompt=1&completion=1"), 429, "rate_limit_exceeded", $"100 tokens/min for key {record.Id}");

        lb.Time.Advance(TimeSpan.FromSeconds(61));
        using var again = await lb.SendAsync(key, "/v1/chat/completions?prompt=1&completion=1");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Endpoint_Tpm_StreamsWithoutIncludeUsageCountToo_AndTheClientSeesTheStreamItAskedFor()
    {
        await using var upstream = await UsageUpstream.StartAsync();
        var (key, record) = KeyedBalancer.NewKey(tpm: 100);
        await using var lb = await KeyedBalancer.StartAsync([record], upstream.Endpoint());

        // 40 tokens each, streamed without stream_options (once with include_usage: false): 40, 80, 120 — the fourth is over.
        string[] bodies =
        [
            """{"messages": [{"role": "user", "content": "hi"}], "stream": true}""",
            """{"stream": true, "stream_options": {"include_usage": false}, "messages": [{"role": "user", "content": "hi"}]}""",
            """{"stream": true, "stream_options": {}, "messages": []}""",
        ];
        foreach (var body in bodies)
        {
            using var ok = await lb.SendAsync(key, "/v1/chat/completions?prompt=30&completion=10", body: body);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            var text = await ok.Content.ReadAsStringAsync();
            Assert.Equal("data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n", text);
        }
        Assert.All(upstream.Bodies, b => Assert.True(
            System.Text.Json.JsonDocument.Parse(b).RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean(), b));
        await ExpectErrorAsync(await lb.SendAsync(key, "/v1/chat/completions?prompt=1&completion=1"), 429, "rate_limit_exceeded", $"100 tokens/min for key {record.Id}");
    }

    [Fact]
    public async Task Endpoint_Tpm_AStreamThatAsksForUsageGetsItUnchanged()
    {
        await using var upstream = await UsageUpstream.StartAsync();
        var (key, record) = KeyedBalancer.NewKey(tpm: 100);
        await using var lb = await KeyedBalancer.StartAsync([record], upstream.Endpoint());

        const string body = """{"stream": true, "stream_options": {"include_usage": true}, "messages": []}""";
        using var ok = await lb.SendAsync(key, "/v1/chat/completions?prompt=30&completion=10", body: body);
        var text = await ok.Content.ReadAsStringAsync();
        Assert.Contains("\"choices\":[],\"usage\":{\"prompt_tokens\":30", text, StringComparison.Ordinal);
        Assert.Equal(body, Assert.Single(upstream.Bodies));
    }

    [Fact]
    public async Task Endpoint_ConcurrencyCap_RefusesWhileTheAllowedRequestsAreInFlight()
    {
        await using var upstream = await UsageUpstream.StartAsync();
        var (key, record) = KeyedBalancer.NewKey(concurrency: 2);
        await using var lb = await KeyedBalancer.StartAsync([record], upstream.Endpoint());

        var held = new[] { lb.SendAsync(key, "/v1/hold"), lb.SendAsync(key, "/v1/hold") };
        await TestWait.UntilAsync(() => upstream.Held == 2, "two held requests");
        await ExpectErrorAsync(await lb.SendAsync(key), 429, "rate_limit_exceeded", $"2 concurrent requests for key {record.Id}");

        upstream.Release();
        foreach (var response in await Task.WhenAll(held))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }
        await TestWait.UntilAsync(() => lb.Balancer.Keys.InFlight(record.Id) == 0, "the slots freed");
        using var next = await lb.SendAsync(key);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Endpoint_RequestRetriedOnAnotherReplica_CountsOnceAgainstTheKey()
    {
        await using var alive = await UsageUpstream.StartAsync();
        var dead = await EchoUpstream.StartAsync("dead");
        var deadEndpoint = dead.Endpoint();
        await dead.DisposeAsync();
        var (key, record) = KeyedBalancer.NewKey(rpm: 2);
        var (metricsKey, metricsRecord) = KeyedBalancer.NewKey();
        await using var lb = await KeyedBalancer.StartAsync([record, metricsRecord], deadEndpoint, alive.Endpoint("alive"));

        // The dead replica refuses connections: the balancer retries on the live one; each request counts once.
        using (var first = await lb.SendAsync(key))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        lb.Balancer.UpdateReplicas([deadEndpoint, alive.Endpoint("alive")]);
        using (var second = await lb.SendAsync(key))
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        await ExpectErrorAsync(await lb.SendAsync(key), 429, "rate_limit_exceeded", "2 requests/min");

        using var metrics = await lb.SendAsync(metricsKey, "/metrics", HttpMethod.Get);
        var text = await metrics.Content.ReadAsStringAsync();
        var retries = text.Split('\n').Single(l => l.StartsWith("wf_service_lb_retries_total", StringComparison.Ordinal));
        Assert.NotEqual("0", retries.Split(' ')[^1]);
    }

    internal static async Task ExpectErrorAsync(HttpResponseMessage response, int status, string code, string messagePart, bool dispose = true)
    {
        try
        {
            Assert.Equal(status, (int)response.StatusCode);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var error = doc.RootElement.GetProperty("error");
            Assert.Equal(code, error.GetProperty("code").GetString());
            Assert.Contains(messagePart, error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.True(error.TryGetProperty("type", out _));
        }
        finally
        {
            if (dispose)
                response.Dispose();
        }
    }
}
