using System.Net.Http.Headers;
using System.Text;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>`wf replica --api-key-file`: every route but /health needs one of the file's keys, 401 in the OpenAI shape.</summary>
public sealed class ReplicaApiKeyTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "wf-replica-keys-" + Guid.NewGuid().ToString("N"));

    public ReplicaApiKeyTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public async Task Replica_WithKeyFile_RefusesMissingAndWrongKeysOnEveryRouteButHealth()
    {
        var file = Path.Combine(_folder, "keys");
        await File.WriteAllTextAsync(file, "# the daemon's key\nfirst-key\n\n  second-key  \n");
        await using var host = await TestReplica.StartAsync(o => o with { ApiKeyFile = file });
        using var client = TestReplica.Client(host);

        foreach (var (method, path) in new[] { ("GET", "/v1/models"), ("POST", "/v1/completions"), ("POST", "/v1/chat/completions"), ("POST", "/tokenize"), ("GET", "/metrics"), ("GET", "/nope") })
        {
            Assert.Equal(("missing_api_key", 401), await CodeAsync(client, method, path, null));
            Assert.Equal(("invalid_api_key", 401), await CodeAsync(client, method, path, "third-key"));
            Assert.Equal(("invalid_api_key", 401), await CodeAsync(client, method, path, "# the daemon's key"));
        }

        using (var health = await client.GetAsync("/health").WaitAsync(TestReplica.Timeout))
            Assert.Equal(200, (int)health.StatusCode);
        foreach (var key in new[] { "first-key", "second-key" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent("""{"model":"tiny","prompt":"hi","max_tokens":2}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var ok = await client.SendAsync(request).WaitAsync(TestReplica.Timeout);
            Assert.Equal(200, (int)ok.StatusCode);
        }
    }

    [Fact]
    public async Task WarmUp_PassesTheKeyCheckOverLoopback_LeavesNoMetrics_AndItsHeaderOpensNothingAfterwards()
    {
        var file = Path.Combine(_folder, "keys");
        await File.WriteAllTextAsync(file, "first-key\n");
        await using var host = await TestReplica.StartAsync(o => o with { ApiKeyFile = file });
        using var client = TestReplica.Client(host);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "first-key");

        // The warm-up's three generation requests were answered through the listener, past the key check, yet none of
        // them is in the metrics a client or the autoscaler reads.
        Assert.Equal("ok", host.WarmUpOutcome);
        using (var metrics = await client.GetAsync("/metrics").WaitAsync(TestReplica.Timeout))
        {
            var text = await metrics.Content.ReadAsStringAsync();
            Assert.DoesNotContain("endpoint=\"/v1/completions\"", text, StringComparison.Ordinal);
            Assert.DoesNotContain("endpoint=\"/v1/chat/completions\"", text, StringComparison.Ordinal);
            Assert.Contains("wf_generated_tokens_total 0", text, StringComparison.Ordinal);
        }

        // After the warm-up its header is just a header: no key, no way in.
        client.DefaultRequestHeaders.Authorization = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent("""{"model":"tiny","prompt":"hi","max_tokens":2}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-WF-Warmup", "anything");
        using var refused = await client.SendAsync(request).WaitAsync(TestReplica.Timeout);
        Assert.Equal(401, (int)refused.StatusCode);
    }

    [Fact]
    public async Task Options_KeyFileMissingOrEmpty_IsAnErrorNamingIt()
    {
        var missing = Path.Combine(_folder, "none");
        var error = Assert.Throws<ArgumentException>(() => TestReplica.Options(o => o with { ApiKeyFile = missing }).Validate());
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Equal(missing, ReplicaOptions.FromEnvironment(n => n == "WF_API_KEY_FILE" ? missing : null).ApiKeyFile);

        var empty = Path.Combine(_folder, "empty");
        File.WriteAllText(empty, "# nothing\n\n");
        var startError = await Assert.ThrowsAsync<ArgumentException>(() => ReplicaHost.StartAsync(TestReplica.Options(o => o with { ApiKeyFile = empty })).WaitAsync(TestReplica.Timeout));
        Assert.Contains("holds no key", startError.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static async Task<(string? Code, int Status)> CodeAsync(HttpClient client, string method, string path, string? key)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        if (key is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.SendAsync(request).WaitAsync(TestReplica.Timeout);
        using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (doc.RootElement.GetProperty("error").GetProperty("code").GetString(), (int)response.StatusCode);
    }
}
