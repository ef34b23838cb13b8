using System.Text.Json;
using WrinkleFree.Replica.Chat;

namespace WrinkleFree.Replica.Tests.Chat;

/// <summary>The tool-call reader: Hermes blocks and Llama 3.x JSON, whole or split at every position, agree.</summary>
public sealed class ToolCallStreamTests
{
    private static ChatToolOptions Options(bool? parallel = null, params string[] names) => new()
    {
        Tools = (names.Length == 0 ? ["get_weather", "get_time"] : names).Select(n => new ChatTool(n, null, null,
            JsonDocument.Parse($$$"""{"type":"function","function":{"name":"{{{n}}}"}}""").RootElement.Clone())).ToList(),
        ParallelToolCalls = parallel,
    };

    private static (string Content, List<(string Id, string Name, string Arguments)> Calls) Read(
        ToolCallSyntax syntax, IEnumerable<string> pieces, ChatToolOptions? options = null)
    {
        var n = 0;
        var stream = new ToolCallStream(syntax, options ?? Options(), () => $"call_{n++}");
        var deltas = new List<ToolCallDelta>();
        var content = new System.Text.StringBuilder();
        foreach (var piece in pieces)
        {
            content.Append(stream.Push(piece, deltas));
        }

        content.Append(stream.Finish(deltas));
        var calls = new List<(string Id, string Name, string Arguments)>();
        foreach (var d in deltas)
        {
            if (d.Index == calls.Count)
            {
                Assert.NotNull(d.Id);
                Assert.NotNull(d.Name);
                calls.Add((d.Id!, d.Name!, ""));
            }

            Assert.Null(d.Index < calls.Count - 1 ? "out of order" : null);
            calls[d.Index] = calls[d.Index] with { Arguments = calls[d.Index].Arguments + d.Arguments };
        }

        return (content.ToString(), calls);
    }

    /// <summary>The whole text at once, then split at every position, then one character at a time: all must agree.</summary>
    private static (string Content, List<(string Id, string Name, string Arguments)> Calls) ReadEveryWay(ToolCallSyntax syntax, string text, ChatToolOptions? options = null)
    {
        var whole = Read(syntax, [text], options);
        for (var i = 1; i < text.Length; i++)
        {
            Assert.Equal(Show(whole), Show(Read(syntax, [text[..i], text[i..]], options)));
        }

        Assert.Equal(Show(whole), Show(Read(syntax, text.Select(c => c.ToString()), options)));
        return whole;
    }

    [Fact]
    public void Push_StrictToolInAutoMode_OnlyArgumentsItsSchemaAcceptsAreACall()
    {
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}""").RootElement.Clone();
        var tool = new ChatTool("get_weather", null, schema, JsonDocument.Parse("""{"type":"function","function":{"name":"get_weather","strict":true}}""").RootElement.Clone())
        {
            StrictArguments = WrinkleFree.Inference.Sampling.Constraints.JsonSchemaConstraint.Compile(schema, strict: true),
        };
        var options = new ChatToolOptions { Tools = [tool] };

        var good = ReadEveryWay(ToolCallSyntax.Hermes, """<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>""", options);
        var bad = ReadEveryWay(ToolCallSyntax.Hermes, """<tool_call>{"name": "get_weather", "arguments": {"town": "Paris"}}</tool_call>""", options);

        Assert.Equal("get_weather", Assert.Single(good.Calls).Name);
        Assert.Empty(bad.Calls);
        Assert.Contains("town", bad.Content, StringComparison.Ordinal);
    }

    private static string Show((string Content, List<(string Id, string Name, string Arguments)> Calls) result) =>
        result.Content + " | " + string.Join(" | ", result.Calls);

    [Fact]
    public void Push_HermesCallAfterText_SplitsContentAndCall()
    {
        var (content, calls) = ReadEveryWay(ToolCallSyntax.Hermes,
            "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>");

        Assert.Equal("Let me check.", content);
        var call = Assert.Single(calls);
        Assert.Equal(("call_0", "get_weather"), (call.Id, call.Name));
        Assert.Equal("""{"city": "Paris"}""", call.Arguments);
    }

    [Fact]
    public void Push_HermesTwoCalls_EmitsBothInOrder()
    {
        var (content, calls) = ReadEveryWay(ToolCallSyntax.Hermes,
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>\n");

        Assert.Equal("", content);
        Assert.Equal(["get_weather", "get_time"], calls.Select(c => c.Name));
        Assert.Equal(["call_0", "call_1"], calls.Select(c => c.Id));
        Assert.Equal("{}", calls[1].Arguments);
    }

    [Fact]
    public void Push_HermesParallelFalse_KeepsSecondBlockAsText()
    {
        var text = "<tool_call>{\"name\": \"get_time\", \"arguments\": {}}</tool_call> <tool_call>{\"name\": \"get_time\", \"arguments\": {}}</tool_call>";

        var (content, calls) = ReadEveryWay(ToolCallSyntax.Hermes, text, Options(parallel: false));

        Assert.Single(calls);
        Assert.Equal("<tool_call>{\"name\": \"get_time\", \"arguments\": {}}</tool_call>", content);
    }

    [Theory]
    [InlineData("<tool_call>\n{\"name\": \"launch_rockets\", \"arguments\": {}}\n</tool_call>")]
    [InlineData("<tool_call>\n{\"name\": \"get_time\", \"arguments\": [1]}\n</tool_call>")]
    [InlineData("<tool_call>\nnot json\n</tool_call>")]
    [InlineData("<tool_call>\n{\"name\": \"get_time\", \"argu")]
    public void Push_HermesBlockThatIsNotACallToADeclaredTool_StaysContent(string text)
    {
        var (content, calls) = ReadEveryWay(ToolCallSyntax.Hermes, text);

        Assert.Empty(calls);
        Assert.Equal(text, content);
    }

    [Fact]
    public void Push_HermesUnclosedButCompleteJson_IsACall()
    {
        var (content, calls) = ReadEveryWay(ToolCallSyntax.Hermes, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}\n");

        Assert.Equal("", content);
        Assert.Equal("""{"tz": "UTC"}""", Assert.Single(calls).Arguments);
    }

    [Fact]
    public void Push_HermesPlainTextWithAngleBrackets_PassesThroughUnchanged()
    {
        var text = "a < b and <tool is not a tag, <tool_cal neither\n";

        var (content, calls) = ReadEveryWay(ToolCallSyntax.Hermes, text);

        Assert.Empty(calls);
        Assert.Equal(text, content);
    }

    [Fact]
    public void Push_HermesArgumentsAsJsonString_AreUnwrapped()
    {
        var (_, calls) = ReadEveryWay(ToolCallSyntax.Hermes, "<tool_call>{\"name\": \"get_time\", \"arguments\": \"{\\\"tz\\\": 1}\"}</tool_call>");

        Assert.Equal("""{"tz": 1}""", Assert.Single(calls).Arguments);
    }

    [Fact]
    public void Push_HermesTextHeldBack_ReleasedOnlyWhenNotATag()
    {
        var stream = new ToolCallStream(ToolCallSyntax.Hermes, Options());
        var calls = new List<ToolCallDelta>();

        Assert.Equal("Hello", stream.Push("Hello <tool", calls));
        Assert.Equal(" <toolbox", stream.Push("box", calls));
        Assert.Empty(calls);
    }

    [Theory]
    [InlineData("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}")]
    [InlineData("<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}")]
    [InlineData("  \n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}")]
    public void Push_Llama3Json_IsACall(string text)
    {
        var (content, calls) = ReadEveryWay(ToolCallSyntax.Llama3Json, text);

        Assert.Equal("", content);
        var call = Assert.Single(calls);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("""{"city": "Paris"}""", call.Arguments);
    }

    [Fact]
    public void Push_Llama3JsonSeveralCallsSeparatedBySemicolons_EmitsEach()
    {
        var (_, calls) = ReadEveryWay(ToolCallSyntax.Llama3Json,
            "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"a;b\"}}; {\"name\": \"get_time\", \"parameters\": {}}");

        Assert.Equal(["get_weather", "get_time"], calls.Select(c => c.Name));
        Assert.Equal("""{"city": "a;b"}""", calls[0].Arguments);
    }

    [Theory]
    [InlineData("The weather is fine.")]
    [InlineData("{\"name\": \"unknown_tool\", \"parameters\": {}}")]
    [InlineData("{not json at all")]
    [InlineData("<|python_ta")]
    public void Push_Llama3JsonThatIsNotACall_IsContent(string text)
    {
        var (content, calls) = ReadEveryWay(ToolCallSyntax.Llama3Json, text);

        Assert.Empty(calls);
        Assert.Equal(text, content);
    }

    [Fact]
    public void Push_Llama3JsonPlainText_StreamsWithoutWaitingForTheEnd()
    {
        var stream = new ToolCallStream(ToolCallSyntax.Llama3Json, Options());
        var calls = new List<ToolCallDelta>();

        Assert.Equal("", stream.Push("  ", calls));
        Assert.Equal("  Sure", stream.Push("Sure", calls));
        Assert.Equal(", here", stream.Push(", here", calls));
    }

    [Fact]
    public void Push_NamedFunctionChoice_OnlyThatFunctionCounts()
    {
        var options = Options() with { Choice = ToolChoiceMode.Function, FunctionName = "get_time" };

        var (content, calls) = ReadEveryWay(ToolCallSyntax.Hermes, "<tool_call>{\"name\": \"get_weather\", \"arguments\": {}}</tool_call>", options);

        Assert.Empty(calls);
        Assert.StartsWith("<tool_call>", content, StringComparison.Ordinal);
    }

    [Fact]
    public void Push_ForcedCall_SplitsAgreeWithTheWholeText()
    {
        var options = Options() with { Choice = ToolChoiceMode.Required };

        var (content, calls) = ReadEveryWay(ToolCallSyntax.Hermes,
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"P}a{r\\\"is\", \"n\": [1, {\"x\": 2}]}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>", options);

        Assert.Equal("", content);
        Assert.Equal(["get_weather", "get_time"], calls.Select(c => c.Name));
        Assert.Equal("""{"city": "P}a{r\"is", "n": [1, {"x": 2}]}""", calls[0].Arguments);
        Assert.Equal("{}", calls[1].Arguments);
    }

    [Fact]
    public void Push_ForcedCall_StreamsNameThenArgumentPiecesBeforeTheBlockCloses()
    {
        var stream = new ToolCallStream(ToolCallSyntax.Hermes, Options() with { Choice = ToolChoiceMode.Required }, () => "call_1");
        var calls = new List<ToolCallDelta>();

        stream.Push("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": ", calls);
        Assert.Empty(calls);
        stream.Push("{\"city\": \"Pa", calls);
        Assert.Equal([new ToolCallDelta(0, "call_1", "get_weather", ""), new ToolCallDelta(0, null, null, "{\"city\": \"Pa")], calls);
        calls.Clear();
        stream.Push("ris\"}}\n</tool_call>", calls);
        Assert.Equal([new ToolCallDelta(0, null, null, "ris\"}")], calls);
        Assert.Equal(1, stream.CallCount);
    }

    [Fact]
    public void NewCallId_Always_IsCallAndTwentyFourCharacters()
    {
        var id = ToolCallStream.NewCallId();

        Assert.Matches("^call_[0-9a-f]{24}$", id);
        Assert.NotEqual(id, ToolCallStream.NewCallId());
    }
}
