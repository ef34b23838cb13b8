using System.Text.Json;
using WrinkleFree.Inference.Sampling.Constraints;
using WrinkleFree.Replica.Chat;

namespace WrinkleFree.Replica.Tests.Chat;

/// <summary>The forced tool-call grammar accepts exactly the calls the model's syntax and the tools' schemas allow.</summary>
public sealed class ToolCallGrammarTests
{
    private static ChatTool Tool(string name, string? parameters) => new(name, null,
        parameters is null ? null : JsonDocument.Parse(parameters).RootElement.Clone(),
        JsonDocument.Parse($$$"""{"type":"function","function":{"name":"{{{name}}}"}}""").RootElement.Clone());

    private static readonly ChatToolOptions Weather = new()
    {
        Tools =
        [
            Tool("get_weather", """{"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}}, "required": ["city"], "additionalProperties": false}"""),
            Tool("get_time", null),
        ],
        Choice = ToolChoiceMode.Required,
    };

    private static Grammar Compile(ToolCallSyntax syntax, ChatToolOptions options) => Grammar.Parse(ToolCallGrammar.Build(syntax, options));

    [Theory]
    [InlineData("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", true)]
    [InlineData("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"c\"}}\n</tool_call>", true)]
    [InlineData("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"anything\": [1, 2]}}\n</tool_call>", true)]
    [InlineData("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>", true)]
    [InlineData("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>", false)]
    [InlineData("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"k\"}}\n</tool_call>", false)]
    [InlineData("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"extra\": 1}}\n</tool_call>", false)]
    [InlineData("<tool_call>\n{\"name\": \"launch\", \"arguments\": {}}\n</tool_call>", false)]
    [InlineData("Sure! <tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>", false)]
    [InlineData("", false)]
    public void Build_Hermes_AcceptsOnlyDeclaredCallsMatchingTheirSchemas(string text, bool accepted)
    {
        Assert.Equal(accepted, Compile(ToolCallSyntax.Hermes, Weather).Accepts(text));
    }

    [Theory]
    [InlineData("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", true)]
    [InlineData("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}; {\"name\": \"get_time\", \"parameters\": {}}", true)]
    [InlineData("{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}", false)]
    [InlineData("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>", false)]
    public void Build_Llama3Json_AcceptsTheLlamaCallFormat(string text, bool accepted)
    {
        Assert.Equal(accepted, Compile(ToolCallSyntax.Llama3Json, Weather).Accepts(text));
    }

    [Fact]
    public void Build_ParallelFalse_AcceptsOneCallOnly()
    {
        var grammar = Compile(ToolCallSyntax.Hermes, Weather with { ParallelToolCalls = false });
        var one = "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>";

        Assert.True(grammar.Accepts(one));
        Assert.False(grammar.Accepts(one + "\n" + one));
    }

    [Fact]
    public void Build_NamedFunction_AcceptsOnlyThatFunction()
    {
        var grammar = Compile(ToolCallSyntax.Hermes, Weather with { Choice = ToolChoiceMode.Function, FunctionName = "get_time" });

        Assert.True(grammar.Accepts("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"));
        Assert.False(grammar.Accepts("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"));
    }

    [Fact]
    public void Build_ToolsWithTheirOwnDefs_ResolveEachAgainstItsOwnSchema()
    {
        var options = new ChatToolOptions
        {
            Tools =
            [
                Tool("a", """{"type": "object", "properties": {"x": {"$ref": "#/$defs/v"}}, "required": ["x"], "$defs": {"v": {"type": "integer"}}}"""),
                Tool("b", """{"type": "object", "properties": {"x": {"$ref": "#/$defs/v"}}, "required": ["x"], "$defs": {"v": {"type": "boolean"}}}"""),
            ],
            Choice = ToolChoiceMode.Required,
        };
        var grammar = Compile(ToolCallSyntax.Hermes, options);

        Assert.True(grammar.Accepts("<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 3}}\n</tool_call>"));
        Assert.True(grammar.Accepts("<tool_call>\n{\"name\": \"b\", \"arguments\": {\"x\": true}}\n</tool_call>"));
        Assert.False(grammar.Accepts("<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": true}}\n</tool_call>"));
    }

    [Fact]
    public void Build_UnsupportedSchemaKeyword_ThrowsNamingTheToolAndKeyword()
    {
        var options = new ChatToolOptions
        {
            Tools = [Tool("search", """{"type": "object", "properties": {"q": {"type": "string", "pattern": "^a"}}}""")],
            Choice = ToolChoiceMode.Required,
        };

        var error = Assert.Throws<JsonSchemaException>(() => ToolCallGrammar.Build(ToolCallSyntax.Hermes, options));

        Assert.Equal("pattern", error.Keyword);
        Assert.Contains("tool 'search' parameters #/properties/q/pattern", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_AcceptedCall_ReadsBackAsThatCall()
    {
        var text = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
        Assert.True(Compile(ToolCallSyntax.Hermes, Weather).Accepts(text));
        var calls = new List<ToolCallDelta>();
        var stream = new ToolCallStream(ToolCallSyntax.Hermes, Weather);

        var content = stream.Push(text, calls) + stream.Finish(calls);

        Assert.Equal("", content);
        Assert.Equal("get_weather", calls[0].Name);
        Assert.Equal("""{"city": "Paris"}""", calls[1].Arguments);
    }
}
