using System.ClientModel;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using WrinkleFree.Testing;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>
/// response_format and grammar on a real replica over the tiny random-weight model: outputs parse and validate, a
/// finished document ends with finish_reason stop, and what cannot be enforced is a 400 naming it.
/// </summary>
public sealed class StructuredOutputTests : IAsyncLifetime
{
    private const int MaxTokens = 300;

    private ReplicaHost _host = null!;
    private HttpClient _client = null!;

    public static TheoryData<string> Schemas { get; } =
    [
        """{"type":"object","properties":{"answer":{"type":"string","maxLength":10},"confidence":{"type":"number"}},"required":["answer","confidence"],"additionalProperties":false}""",
        """{"type":"object","properties":{"items":{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":4},"done":{"type":"boolean"}},"required":["items","done"],"additionalProperties":false}""",
        """{"type":"object","properties":{"kind":{"enum":["cat","dog"]},"owner":{"type":"object","properties":{"name":{"type":"string","maxLength":5},"since":{"type":"string","format":"date"}},"required":["name"],"additionalProperties":false},"note":{"type":["string","null"],"maxLength":4}},"required":["kind","owner"],"additionalProperties":false}""",
        """{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"integer"}},"required":["b"],"additionalProperties":false}""",
    ];

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

    [Theory]
    [MemberData(nameof(Schemas))]
    public async Task PostChat_JsonSchema_ContentParsesAndValidates(string schema)
    {
        using var schemaDoc = JsonDocument.Parse(schema);
        var stopped = 0;
        foreach (var (temperature, seed) in new[] { (0.0, 1), (0.8, 2), (1.3, 3) })
        {
            var body = $$"""
                {"messages":[{"role":"user","content":"Give JSON"}],"max_tokens":{{MaxTokens}},"temperature":{{temperature}},"seed":{{seed}},
                 "response_format":{"type":"json_schema","json_schema":{"name":"answer","strict":true,"schema":
                """ + schema + "}}}";
            var (status, json, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions", body);
            Assert.True(status == 200, json.GetRawText());
            var choice = json.GetProperty("choices")[0];
            var content = choice.GetProperty("message").GetProperty("content").GetString()!;
            var finish = choice.GetProperty("finish_reason").GetString();
            AssertValidOrTruncated(schemaDoc.RootElement, content, finish, json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
            stopped += finish == "stop" ? 1 : 0;
        }

        Assert.True(stopped > 0, "no document finished within max_tokens");
    }

    [Fact]
    public async Task PostChat_JsonObject_ContentIsAJsonObject()
    {
        // Any object: the random model may write long strings and deep nesting, so a document cut at max_tokens is
        // allowed, as long as what was written can still be completed.
        for (var seed = 1; seed <= 4; seed++)
        {
            var body = $$$"""{"messages":[{"role":"user","content":"JSON please"}],"max_tokens":{{{MaxTokens}}},"seed":{{{seed}}},"response_format":{"type":"json_object"}}""";
            var (status, json, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions", body);
            Assert.Equal(200, status);
            var choice = json.GetProperty("choices")[0];
            var content = choice.GetProperty("message").GetProperty("content").GetString()!;
            if (choice.GetProperty("finish_reason").GetString() == "length")
            {
                Assert.Equal(MaxTokens, json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
                Assert.True(Inference.Sampling.Constraints.JsonSchemaConstraint.JsonObject.AcceptsPrefix(content), content);
                continue;
            }

            Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
            using var doc = JsonDocument.Parse(content);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        }
    }

    [Fact]
    public async Task PostChat_JsonSchemaWithN_EveryChoiceValidates()
    {
        const string Schema = """{"type":"object","properties":{"v":{"enum":["x","y","z"]},"n":{"type":"integer"}},"required":["v","n"],"additionalProperties":false}""";
        var body = $$"""
            {"messages":[{"role":"user","content":"Pick"}],"max_tokens":{{MaxTokens}},"n":3,"seed":9,"temperature":1,
             "response_format":{"type":"json_schema","json_schema":{"name":"pick","schema":
            """ + Schema + "}}}";
        var (status, json, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions", body);
        Assert.True(status == 200, json.GetRawText());
        using var schema = JsonDocument.Parse(Schema);
        Assert.Equal(3, json.GetProperty("choices").GetArrayLength());
        foreach (var choice in json.GetProperty("choices").EnumerateArray())
        {
            Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
            using var doc = JsonDocument.Parse(choice.GetProperty("message").GetProperty("content").GetString()!);
            Assert.Null(JsonSchemaValidator.Validate(schema.RootElement, doc.RootElement));
        }
    }

    [Fact]
    public async Task PostCompletions_Grammar_TextMatchesTheGrammar()
    {
        const string Grammar = "root ::= (\"yes\" | \"no\") \", because \" [a-z]{1,8} \".\"";
        for (var seed = 1; seed <= 3; seed++)
        {
            var body = JsonSerializer.Serialize(new { prompt = "Is it?", max_tokens = 40, seed, temperature = 1.0, grammar = Grammar });
            var (status, json, _) = await TestReplica.PostAsync(_client, "/v1/completions", body);
            Assert.True(status == 200, json.GetRawText());
            var choice = json.GetProperty("choices")[0];
            Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
            Assert.Matches("^(yes|no), because [a-z]{1,8}\\.$", choice.GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task PostChat_GrammarStreamed_DeltasJoinToAMatchingText()
    {
        var body = JsonSerializer.Serialize(new
        {
            messages = new[] { new { role = "user", content = "count" } },
            max_tokens = 60,
            seed = 4,
            stream = true,
            grammar = "root ::= \"[\" [0-9] ( \",\" [0-9] ){2} \"]\"",
        });
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync("/v1/chat/completions", content).WaitAsync(TestReplica.Timeout);
        Assert.Equal(200, (int)response.StatusCode);
        var (events, done) = await TestReplica.ReadSseAsync(response);
        Assert.True(done);
        var text = new StringBuilder();
        string? finish = null;
        foreach (var e in events)
        {
            foreach (var choice in e.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("delta").TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
                {
                    text.Append(c.GetString());
                }

                if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String)
                {
                    finish = f.GetString();
                }
            }
        }

        Assert.Equal("stop", finish);
        Assert.Matches(@"^\[[0-9](,[0-9]){2}\]$", text.ToString());
    }

    [Fact]
    public async Task CompleteChat_OpenAiClientJsonSchemaFormat_ReturnsValidJson()
    {
        const string Schema = """{"type":"object","properties":{"city":{"type":"string","maxLength":12},"population":{"type":"integer"},"capital":{"type":"boolean"}},"required":["city","population","capital"],"additionalProperties":false}""";
        var chat = new ChatClient(TestReplica.ModelId, new ApiKeyCredential("unused"),
            new OpenAIClientOptions { Endpoint = new Uri(_host.Address, "v1"), NetworkTimeout = TestReplica.Timeout });
        var options = new ChatCompletionOptions
        {
            MaxOutputTokenCount = MaxTokens,
            Temperature = 0.7f,
#pragma warning disable OPENAI001 // Seed is marked experimental in the client; the replica implements it.
            Seed = 11,
#pragma warning restore OPENAI001
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("city", BinaryData.FromString(Schema), jsonSchemaIsStrict: true),
        };

        var completion = (await chat.CompleteChatAsync([new UserChatMessage("Name a city")], options).WaitAsync(TestReplica.Timeout)).Value;

        using var schema = JsonDocument.Parse(Schema);
        AssertValidOrTruncated(schema.RootElement, completion.Content[0].Text,
            completion.FinishReason == ChatFinishReason.Stop ? "stop" : "length", completion.Usage.OutputTokenCount);
    }

    [Theory]
    [InlineData("/v1/completions", "\"grammar\": \"root ::= foo\"", "grammar", "never defined")]
    [InlineData("/v1/completions", "\"grammar\": \"root ::= [a-\"", "grammar", "unterminated character class")]
    [InlineData("/v1/completions", "\"grammar\": 5", "grammar", "must be a string")]
    [InlineData("/v1/chat/completions", "\"grammar\": \"\"", "grammar", "empty")]
    [InlineData("/v1/chat/completions", "\"response_format\": {\"type\": \"xml\"}", "response_format", "'xml'")]
    [InlineData("/v1/chat/completions", "\"response_format\": \"json\"", "response_format", "must be an object")]
    [InlineData("/v1/chat/completions", "\"response_format\": {\"type\": \"json_schema\"}", "response_format", "json_schema must be an object")]
    [InlineData("/v1/chat/completions", "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"x\"}}", "response_format", "schema is required")]
    [InlineData("/v1/chat/completions", "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"x\", \"schema\": {\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"number\", \"minimum\": 0}}}}}", "response_format", "#/properties/n/minimum")]
    [InlineData("/v1/chat/completions", "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"x\", \"schema\": {\"type\": \"string\", \"pattern\": \"a+\"}}}", "response_format", "'pattern' is not supported")]
    [InlineData("/v1/chat/completions", "\"response_format\": {\"type\": \"json_object\", \"schema\": {}}", "response_format", "response_format.schema")]
    [InlineData("/v1/chat/completions", "\"response_format\": {\"type\": \"json_object\"}, \"grammar\": \"root ::= \\\"a\\\"\"", "grammar", "not both")]
    public async Task Post_BadConstraint_400NamingParamAndProblem(string path, string fields, string param, string expected)
    {
        var body = path == "/v1/completions"
            ? $"{{\"prompt\": \"hi\", \"max_tokens\": 1, {fields}}}"
            : $"{{\"messages\": [{{\"role\": \"user\", \"content\": \"hi\"}}], \"max_tokens\": 1, {fields}}}";

        await TestReplica.AssertBadRequestAsync(_client, path, body, param, expected);
    }

    [Fact]
    public async Task PostChat_ResponseFormatText_IsUnconstrained()
    {
        var body = """{"messages":[{"role":"user","content":"hi"}],"max_tokens":3,"temperature":0,"response_format":{"type":"text"}}""";
        var (status, json, _) = await TestReplica.PostAsync(_client, "/v1/chat/completions", body);
        Assert.Equal(200, status);
        Assert.Equal("length", json.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    private static void AssertValidOrTruncated(JsonElement schema, string content, string? finish, int completionTokens)
    {
        if (finish == "length")
        {
            // Truncation is legitimate only when max_tokens was reached.
            Assert.Equal(MaxTokens, completionTokens);
            return;
        }

        Assert.Equal("stop", finish);
        using var doc = JsonDocument.Parse(content);
        Assert.Null(JsonSchemaValidator.Validate(schema, doc.RootElement));
    }
}
