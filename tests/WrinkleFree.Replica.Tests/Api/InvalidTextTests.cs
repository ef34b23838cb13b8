using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>
/// Invalid UTF-8 bytes and escaped lone surrogates in any string of a request are a 400 naming the field (they were a 500
/// carrying a .NET message), and the replica goes on serving.
/// </summary>
public sealed class InvalidTextTests : IAsyncLifetime
{
    private ReplicaHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await TestReplica.StartAsync();
        _client = TestReplica.Client(_host);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private static readonly byte[] Bad1 = [0xC3, 0x28];
    private static readonly byte[] Bad2 = [0xFF];
    private static readonly byte[] Surrogate = "\\ud800"u8.ToArray();

    public static TheoryData<string, string, string, string> Cases => new()
    {
        // path, body with BAD where the invalid text goes, the field the error names, the param
        { "/v1/completions", "{\"prompt\": \"hi BAD\", \"max_tokens\": 1}", "prompt", "prompt" },
        { "/v1/completions", "{\"prompt\": [\"ok\", \"BAD\"], \"max_tokens\": 1}", "prompt[1]", "prompt" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"stop\": [\"BAD\"], \"max_tokens\": 1}", "stop[0]", "stop" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"model\": \"BAD\"}", "model", "model" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"user\": \"BAD\"}", "user", "user" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"unknown_field\": {\"deep\": [\"BAD\"]}}", "unknown_field.deep[0]", "unknown_field" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"BAD\"}]}", "messages[0].content", "messages" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"BAD\"}]}]}", "messages[0].content[0].text", "messages" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\", \"name\": \"BAD\"}]}", "messages[0].name", "messages" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"BAD\"}}]}", "tools[0].function.name", "tools" },
        { "/tokenize", "{\"prompt\": \"BAD\"}", "prompt", "prompt" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Post_InvalidTextInAnyString_400NamingTheField(string path, string template, string field, string param)
    {
        foreach (var bad in new[] { Bad1, Bad2, Surrogate })
        {
            var (status, body) = await PostBytesAsync(path, Splice(template, bad));

            Assert.True(status == 400, $"{path} {template} with {Convert.ToHexString(bad)}: {status} {body}");
            var error = body.GetProperty("error");
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Equal("invalid_encoding", error.GetProperty("code").GetString());
            Assert.Equal(param, error.GetProperty("param").GetString());
            Assert.StartsWith(field + " is not valid text", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // Still serving.
        var (ok, _, _) = await TestReplica.PostAsync(_client, "/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": 1}");
        Assert.Equal(200, ok);
    }

    [Fact]
    public async Task Post_InvalidTextInAFieldName_400()
    {
        var (status, body) = await PostBytesAsync("/v1/completions", Splice("{\"prompt\": \"hi\", \"BAD\": 1}", Bad1));

        Assert.Equal(400, status);
        Assert.Contains("a field name is not valid text", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_ValidSurrogatePairAndNonAscii_Accepted()
    {
        var (status, _, _) = await TestReplica.PostAsync(_client, "/v1/completions", "{\"prompt\": \"h\\ud83d\\ude00 é 中\", \"max_tokens\": 1}");

        Assert.Equal(200, status);
    }

    private static byte[] Splice(string template, byte[] bad)
    {
        var at = template.IndexOf("BAD", StringComparison.Ordinal);
        return [.. Encoding.UTF8.GetBytes(template[..at]), .. bad, .. Encoding.UTF8.GetBytes(template[(at + 3)..])];
    }

    private async Task<(int Status, JsonElement Body)> PostBytesAsync(string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _client.PostAsync(path, content).WaitAsync(TestReplica.Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TestReplica.Timeout);
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }
}
