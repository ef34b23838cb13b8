using System.Text;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>Every client mistake gets its 4xx in the OpenAI error shape, naming the param; never a 500.</summary>
public sealed class MalformedRequestTests : IAsyncLifetime
{
    private ReplicaHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await TestReplica.StartAsync(o => o with { MaxRequestBodyBytes = 4096 });
        _client = TestReplica.Client(_host);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    public static TheoryData<string, string, int, string, string?> Cases => new()
    {
        { "/v1/completions", "{\"prompt\": \"hi\",", 400, "invalid_request_error", null },
        { "/v1/completions", "", 400, "invalid_request_error", null },
        { "/v1/completions", "[1, 2]", 400, "invalid_request_error", null },
        { "/v1/completions", "{}", 400, "invalid_request_error", "prompt" },
        { "/v1/completions", "{\"prompt\": 5}", 400, "invalid_request_error", "prompt" },
        { "/v1/completions", "{\"prompt\": []}", 400, "invalid_request_error", "prompt" },
        { "/v1/completions", "{\"prompt\": [1, -2]}", 400, "invalid_request_error", "prompt" },
        { "/v1/completions", "{\"prompt\": [1, 999999]}", 400, "invalid_request_error", "prompt" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": -1}", 400, "invalid_request_error", "max_tokens" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": \"ten\"}", 400, "invalid_request_error", "max_tokens" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": 1.5}", 400, "invalid_request_error", "max_tokens" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"temperature\": 3}", 400, "invalid_request_error", "temperature" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"top_p\": 1.5}", 400, "invalid_request_error", "top_p" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"min_p\": -0.1}", 400, "invalid_request_error", "min_p" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"presence_penalty\": 9}", 400, "invalid_request_error", "presence_penalty" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"repetition_penalty\": 0}", 400, "invalid_request_error", "repetition_penalty" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"n\": 0}", 400, "invalid_request_error", "n" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"stop\": 7}", 400, "invalid_request_error", "stop" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"logprobs\": 50}", 400, "invalid_request_error", "logprobs" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"stream\": \"yes\"}", 400, "invalid_request_error", "stream" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"seed\": \"x\"}", 400, "invalid_request_error", "seed" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"stream_options\": 1}", 400, "invalid_request_error", "stream_options" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"model\": \"gpt-9\"}", 404, "invalid_request_error", "model" },
        { "/v1/completions", "{\"prompt\": \"" + new string('x', 5000) + "\"}", 413, "invalid_request_error", null },
        { "/v1/chat/completions", "{}", 400, "invalid_request_error", "messages" },
        { "/v1/chat/completions", "{\"messages\": []}", 400, "invalid_request_error", "messages" },
        { "/v1/chat/completions", "{\"messages\": [{\"content\": \"hi\"}]}", 400, "invalid_request_error", "messages" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}", 400, "invalid_request_error", "messages" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": 3}]}", 400, "invalid_request_error", "messages" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}", 400, "invalid_request_error", "messages" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"logprobs\": 1}", 400, "invalid_request_error", "logprobs" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_logprobs\": 2}", 400, "invalid_request_error", "top_logprobs" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_completion_tokens\": 0}", 400, "invalid_request_error", "max_completion_tokens" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 100000}", 400, "invalid_request_error", "messages" },
        { "/tokenize", "{}", 400, "invalid_request_error", "content" },
        { "/detokenize", "{\"tokens\": [\"a\"]}", 400, "invalid_request_error", "tokens" },
        { "/detokenize", "{\"tokens\": [123456]}", 400, "invalid_request_error", "tokens" },
        { "/v1/nothing-here", "{}", 404, "invalid_request_error", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Post_MalformedRequest_ReturnsOpenAiError(string path, string body, int status, string type, string? param)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync(path, content).WaitAsync(TestReplica.Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TestReplica.Timeout);

        Assert.Equal(status, (int)response.StatusCode);
        var error = System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.True(error.TryGetProperty("code", out _));
    }

    [Fact]
    public async Task Get_OnAPostRoute_Returns405InOpenAiShape()
    {
        using var response = await _client.GetAsync("/v1/completions").WaitAsync(TestReplica.Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TestReplica.Timeout);

        Assert.Equal(405, (int)response.StatusCode);
        Assert.Equal("method_not_allowed", System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Post_MalformedJson_NamesLineAndColumn()
    {
        using var content = new StringContent("{\n  \"prompt\": \"hi\",\n  \"max_tokens\": }", Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync("/v1/completions", content).WaitAsync(TestReplica.Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TestReplica.Timeout);

        Assert.Contains("line 3, column 17", text);
    }

    [Theory]
    [InlineData("/v1/completions", "metadata", "{\"team\": \"a\"}", "unsupported_parameter")]
    [InlineData("/v1/chat/completions", "prediction", "{\"type\": \"content\", \"content\": \"x\"}", "unsupported_parameter")]
    [InlineData("/v1/chat/completions", "best_of", "2", "unknown_parameter")]
    [InlineData("/v1/completions", "x-custom", "{\"a\": [1]}", "unknown_parameter")]
    [InlineData("/v1/chat/completions", "functions", "[{\"name\": \"f\"}]", "unsupported_parameter")]
    [InlineData("/v1/chat/completions", "function_call", "\"auto\"", "unsupported_parameter")]
    [InlineData("/v1/chat/completions", "echo", "true", "unknown_parameter")]
    public async Task Post_FieldNotActedOn_400NamingItInsteadOfIgnoringIt(string path, string field, string value, string code)
    {
        var body = path == "/v1/completions"
            ? $"{{\"prompt\": \"hi\", \"max_tokens\": 1, \"{field}\": {value}}}"
            : $"{{\"messages\": [{{\"role\": \"user\", \"content\": \"hi\"}}], \"max_tokens\": 1, \"{field}\": {value}}}";

        var (status, json, _) = await TestReplica.PostAsync(_client, path, body);

        Assert.Equal(400, status);
        var error = json.GetProperty("error");
        Assert.Equal(field, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Contains($"'{field}'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_UnsupportedFieldsSetToNull_AreAbsent()
    {
        var (status, _, _) = await TestReplica.PostAsync(_client, "/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": 1, \"best_of\": null, \"suffix\": null, \"user\": \"u1\"}");

        Assert.Equal(200, status);
    }
}
