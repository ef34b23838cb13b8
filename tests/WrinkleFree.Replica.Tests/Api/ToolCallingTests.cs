using System.Text.Json;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>
/// Tool calling over HTTP against a real replica on the tiny random model (ChatML, so the default Hermes tool format).
/// The random model never calls a tool by itself; tool_choice required or a named function forces a call through the
/// constrained decoder, which is what makes these answers deterministic calls.
/// </summary>
public sealed class ToolCallingTests : IAsyncLifetime
{
    private const string Tools = """
        [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
          "parameters": {"type": "object", "properties": {"city": {"enum": ["Paris", "Oslo"]}, "metric": {"type": "boolean"}},
                         "required": ["city", "metric"], "additionalProperties": false}}},
         {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"utc": {"type": "boolean"}}, "required": ["utc"], "additionalProperties": false}}}]
        """;

    private ReplicaHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await ToolTestModel.StartAsync();
        _client = TestReplica.Client(_host);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private static string Request(string toolChoice, bool stream = false, int seed = 1, string extra = "") => $$"""
        {"model": "tiny", "messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": {{Tools}},
         "tool_choice": {{toolChoice}}, "parallel_tool_calls": false, "max_tokens": 120, "seed": {{seed}}, "stream": {{(stream ? "true" : "false")}}{{extra}}}
        """;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Chat_ToolChoiceRequired_ReturnsAValidCallAndToolCallsFinish(int seed)
    {
        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions", Request("\"required\"", seed: seed));

        Assert.True(status == 200, body.ToString());
        var choice = body.GetProperty("choices")[0];
        Assert.True(choice.GetProperty("finish_reason").GetString() == "tool_calls", body.ToString());
        var message = choice.GetProperty("message");
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.StartsWith("call_", call.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("function", call.GetProperty("type").GetString());
        var name = call.GetProperty("function").GetProperty("name").GetString();
        using var arguments = JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!);
        if (name == "get_weather")
        {
            Assert.Contains(arguments.RootElement.GetProperty("city").GetString(), new[] { "Paris", "Oslo" });
            Assert.Contains(arguments.RootElement.GetProperty("metric").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        }
        else
        {
            Assert.Equal("get_time", name);
            Assert.Contains(arguments.RootElement.GetProperty("utc").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        }
    }

    [Fact]
    public async Task Chat_NamedFunction_CallsThatFunction()
    {
        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions",
            Request("""{"type": "function", "function": {"name": "get_time"}}"""));

        Assert.True(status == 200, body.ToString());
        var call = body.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal("get_time", call.GetProperty("function").GetProperty("name").GetString());
    }

    [Fact]
    public async Task ChatStream_ToolChoiceRequired_StreamsTheSameCallAsDeltas()
    {
        var (_, whole, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions", Request("\"required\"", seed: 7));
        var expected = whole.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0].GetProperty("function");

        using var content = new StringContent(Request("\"required\"", stream: true, seed: 7), System.Text.Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync("/v1/chat/completions", content).WaitAsync(TestReplica.Timeout);
        var (events, done) = await TestReplica.ReadSseAsync(response);

        Assert.True(done);
        string? id = null, name = null, finish = null;
        var arguments = new System.Text.StringBuilder();
        var text = new System.Text.StringBuilder();
        foreach (var e in events)
        {
            var choice = e.GetProperty("choices")[0];
            var delta = choice.GetProperty("delta");
            if (delta.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
            {
                text.Append(c.GetString());
            }

            if (delta.TryGetProperty("tool_calls", out var calls))
            {
                foreach (var call in calls.EnumerateArray())
                {
                    Assert.Equal(0, call.GetProperty("index").GetInt32());
                    if (call.TryGetProperty("id", out var i))
                    {
                        Assert.Null(id);
                        id = i.GetString();
                        name = call.GetProperty("function").GetProperty("name").GetString();
                        Assert.Equal("function", call.GetProperty("type").GetString());
                    }

                    if (call.GetProperty("function").TryGetProperty("arguments", out var a))
                    {
                        arguments.Append(a.GetString());
                    }
                }
            }

            if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String)
            {
                finish = f.GetString();
            }
        }

        Assert.Equal("", text.ToString());
        Assert.StartsWith("call_", id, StringComparison.Ordinal);
        Assert.Equal(expected.GetProperty("name").GetString(), name);
        Assert.Equal(expected.GetProperty("arguments").GetString(), arguments.ToString());
        Assert.Equal("tool_calls", finish);
    }

    [Theory]
    [InlineData("\"none\"")]
    [InlineData("\"auto\"")]
    public async Task Chat_NoneOrAuto_AnswersInTextOnTheRandomModel(string toolChoice)
    {
        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions", Request(toolChoice).Replace("\"max_tokens\": 120", "\"max_tokens\": 6", StringComparison.Ordinal));

        Assert.True(status == 200, body.ToString());
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
    }

    [Fact]
    public async Task Chat_ToolCallAndResultInHistory_RoundTrip()
    {
        var body = $$$"""
            {"model": "tiny", "max_tokens": 4, "tools": {{{Tools}}}, "messages": [
              {"role": "user", "content": "Weather in Paris?"},
              {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"metric\": true}"}}]},
              {"role": "tool", "tool_call_id": "call_1", "content": "21 C"}]}
            """;

        var (status, response, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions", body);

        Assert.True(status == 200, response.ToString());
        Assert.True(response.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 0);
    }

    [Theory]
    [InlineData("\"tools\": {}", "tools", "array")]
    [InlineData("\"tools\": [{\"type\": \"retrieval\"}]", "tools", "tools[0].type")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"bad name\"}}]", "tools", "tools[0].function.name")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}, {\"type\": \"function\", \"function\": {\"name\": \"f\"}}]", "tools", "declared twice")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": 3}}]", "tools", "parameters")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"paramters\": {}}}]", "tools", "paramters")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], \"tool_choice\": \"sometimes\"", "tool_choice", "sometimes")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"g\"}}", "tool_choice", "\"g\"")]
    [InlineData("\"tool_choice\": \"required\"", "tool_choice", "no tools")]
    [InlineData("\"parallel_tool_calls\": true", "parallel_tool_calls", "only allowed")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], \"parallel_tool_calls\": 1", "parallel_tool_calls", "true or false")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"strict\": true}}]", "tools", "no parameters schema")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"strict\": true, \"parameters\": {\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"number\", \"minimum\": 3}}}}}]", "tools", "minimum")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], \"response_format\": {\"type\": \"json_object\"}", "response_format", "tool_choice auto")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], \"grammar\": \"root ::= \\\"x\\\"\"", "grammar", "tool_choice none")]
    [InlineData("\"functions\": [{\"name\": \"f\"}]", "functions", "not supported")]
    [InlineData("\"function_call\": \"auto\"", "function_call", "not supported")]
    public async Task Chat_BadToolFields_Are400NamingTheField(string fields, string param, string mention)
    {
        await TestReplica.AssertBadRequestAsync(_client, "/v1/chat/completions",
            $$"""{"model": "tiny", "messages": [{"role": "user", "content": "hi"}], {{fields}}}""", param, mention);
    }

    [Theory]
    [InlineData("""{"role": "tool", "content": "21"}""", "tool_call_id is required")]
    [InlineData("""{"role": "user", "content": "x", "tool_call_id": "call_1"}""", "only allowed on a tool message")]
    [InlineData("""{"role": "user", "content": "x", "tool_calls": []}""", "only allowed on an assistant message")]
    [InlineData("""{"role": "assistant", "content": null}""", "content is required")]
    [InlineData("""{"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]}""", "id is required")]
    [InlineData("""{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{nope"}}]}""", "not valid JSON")]
    [InlineData("""{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}""", "must be a JSON object")]
    public async Task Chat_BadToolMessages_Are400NamingTheMessage(string message, string mention)
    {
        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions",
            $$"""{"model": "tiny", "messages": [{"role": "user", "content": "hi"}, {{message}}]}""");

        Assert.Equal(400, status);
        var error = body.GetProperty("error");
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.Contains("messages[1]", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains(mention, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_RequiredWithAnUnenforceableSchema_Is400NamingTheKeyword()
    {
        var tools = """[{"type": "function", "function": {"name": "search", "parameters": {"type": "object", "properties": {"q": {"type": "string", "pattern": "^a"}}}}}]""";

        var (status, body, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions",
            $$"""{"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "tools": {{tools}}, "tool_choice": "required"}""");

        Assert.Equal(400, status);
        Assert.Equal("tools", body.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("pattern", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
