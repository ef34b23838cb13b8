using System.Net.Http.Headers;
using WrinkleFree.Testing.Hostile;

namespace WrinkleFree.Replica.Tests.Hostile;

/// <summary>A real replica for hostile batches: a 1 MiB body limit (so 100k-deep JSON fits and 2 MiB does not), raw and HttpClient senders.</summary>
internal sealed class HostileReplica : IAsyncDisposable
{
    public const long BodyLimit = 1 << 20;

    public static readonly string[] JsonEndpoints = ["/v1/completions", "/v1/chat/completions", "/tokenize", "/detokenize"];

    private HostileReplica(ReplicaHost host)
    {
        Host = host;
        Client = TestReplica.Client(host);
    }

    public ReplicaHost Host { get; }

    public HttpClient Client { get; }

    public Uri Address => Host.Address;

    public static async Task<HostileReplica> StartAsync() =>
        new(await TestReplica.StartAsync(o => o with { MaxRequestBodyBytes = BodyLimit }));

    /// <summary>A valid body for <paramref name="path"/> (one token for the generation endpoints).</summary>
    public static string ValidBody(string path) => path switch
    {
        "/v1/completions" => """{"prompt": "Once upon a time", "max_tokens": 1}""",
        "/v1/chat/completions" => """{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}""",
        "/tokenize" => """{"content": "hello"}""",
        "/detokenize" => """{"tokens": [1, 2]}""",
        _ => throw new ArgumentException(path),
    };

    /// <summary>POSTs raw bytes with <paramref name="contentType"/> (none when null); status and body text, or null status when the connection failed.</summary>
    public async Task<(int? Status, string? Body)> PostAsync(string path, byte[] body, string? contentType = "application/json")
    {
        using var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        try
        {
            using var response = await Client.PostAsync(path, content).WaitAsync(TestReplica.Timeout);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync().WaitAsync(TestReplica.Timeout));
        }
        catch (HttpRequestException)
        {
            return (null, null);
        }
    }

    /// <summary>After a batch: the replica still answers a valid completion with 200 and /health with ok.</summary>
    public async Task AssertStillServingAsync(HostileTally tally)
    {
        var (status, body) = await PostAsync("/v1/completions", System.Text.Encoding.UTF8.GetBytes(ValidBody("/v1/completions")));
        if (status != 200)
        {
            tally.RecordDeath($"valid request after the batch got {status}: {body}");
        }

        Assert.Equal(200, status);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
    }
}
