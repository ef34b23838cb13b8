using System.Text.Json;
using WrinkleFree.Inference.Sampling.Constraints;
using WrinkleFree.Replica.Api;
using WrinkleFree.Replica.Backends;
using WrinkleFree.Replica.Chat;
using static WrinkleFree.Replica.Tests.Backends.Vllm.VllmTestSupport;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>Contract tests: a vllm upstream is given response_format as sent and a grammar as vLLM's guided_grammar.</summary>
public sealed class StructuredOutputForwardingTests
{
    [Fact]
    public async Task GenerateAsync_ChatWithResponseFormat_ForwardsItAsSent()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));
        const string Format = """{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"a":{"type":"integer"}}}}}""";
        var input = new GenerationInput
        {
            Messages = [new ChatMessage("user", "hi")],
            MaxTokens = 2,
            Constraint = new OutputConstraint { Grammar = JsonSchemaConstraint.JsonObject, ResponseFormatJson = Format },
        };

        await CollectAsync(backend.GenerateAsync(input, CancellationToken.None));

        using var sent = JsonDocument.Parse(fake.LastRequestBody!);
        using var expected = JsonDocument.Parse(Format);
        Assert.True(JsonElement.DeepEquals(expected.RootElement, sent.RootElement.GetProperty("response_format")));
        Assert.False(sent.RootElement.TryGetProperty("guided_grammar", out _));
    }

    [Fact]
    public async Task GenerateAsync_CompletionWithGrammar_ForwardsGuidedGrammar()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));
        const string Gbnf = "root ::= \"yes\" | \"no\"";
        var input = new GenerationInput
        {
            PromptText = "ok?",
            MaxTokens = 2,
            Constraint = new OutputConstraint { Grammar = Grammar.Parse(Gbnf), GrammarText = Gbnf },
        };

        await CollectAsync(backend.GenerateAsync(input, CancellationToken.None));

        using var sent = JsonDocument.Parse(fake.LastRequestBody!);
        Assert.Equal(Gbnf, sent.RootElement.GetProperty("guided_grammar").GetString());
        Assert.False(sent.RootElement.TryGetProperty("response_format", out _));
    }

    [Fact]
    public async Task ParseChat_SchemaKeywordOnlyTheUpstreamEnforces_ForwardedToVllm_TheEngineWouldRefuseIt()
    {
        await using var fake = await StartFakeAsync();
        await using var backend = await StartReadyAsync(FastOptions(fake.BaseUrl));
        using var body = JsonDocument.Parse("""
            {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2,
             "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "string", "pattern": "^[a-z]+$"}}}}
            """);

        var choice = RequestParser.ParseChat(body.RootElement).Choices[0];
        await CollectAsync(backend.GenerateAsync(choice, CancellationToken.None));

        using var sent = JsonDocument.Parse(fake.LastRequestBody!);
        Assert.Equal("^[a-z]+$", sent.RootElement.GetProperty("response_format").GetProperty("json_schema").GetProperty("schema").GetProperty("pattern").GetString());
        var refused = Assert.Throws<BackendException>(() => choice.Constraint!.Grammar);
        Assert.Equal(400, refused.Status);
        Assert.Contains("pattern", refused.Message, StringComparison.Ordinal);
    }
}
