using System.Text.Json;
using WrinkleFree.Replica.Api;
using WrinkleFree.Replica.Chat;
using WrinkleFree.Testing;

namespace WrinkleFree.Replica.Tests.Chat;

/// <summary>
/// Tools, an assistant's tool_calls and tool results render as each real template (tests/data/chat_templates) expects,
/// through the same <see cref="ChatPromptBuilder"/> the bitnet backend uses.
/// </summary>
public sealed class ToolTemplateTests
{
    private const string WeatherTool =
        """{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}""";

    private static readonly ChatToolOptions Tools = new()
    {
        Tools = [new ChatTool("get_weather", "Get the weather", null, JsonDocument.Parse(WeatherTool).RootElement.Clone())],
    };

    private static readonly ChatMessage[] Conversation =
    [
        new("system", "You are helpful."),
        new("user", "Weather in Paris?"),
        new("assistant", "")
        {
            ContentIsNull = true,
            ToolCalls = [new ChatToolCall("call_1", "get_weather", """{"city": "Paris"}""") { ArgumentsObject = JsonDocument.Parse("""{"city": "Paris"}""").RootElement.Clone() }],
        },
        new("tool", """{"temp": 21}""") { ToolCallId = "call_1" },
    ];

    private static string Template(string file) => File.ReadAllText(Path.Combine(RepositoryPaths.Root, "tests", "data", "chat_templates", file));

    [Fact]
    public void Render_Qwen3WithToolsAndToolTurns_MatchesTheTemplatesFormat()
    {
        var builder = ChatPromptBuilder.ForModel(Template("qwen3.jinja"), "", "<|im_end|>");

        var prompt = builder.Render(Conversation, Tools);

        Assert.True(builder.SupportsTools);
        Assert.Equal(ToolCallSyntax.Hermes, builder.ToolSyntax);
        var expected = "<|im_start|>system\nYou are helpful.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
            + WeatherTool
            + "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
            + "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
            + "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
            + "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n"
            + "<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response><|im_end|>\n"
            + "<|im_start|>assistant\n";
        Assert.Equal(expected, prompt);
    }

    [Theory]
    [InlineData("llama-3.1.jinja")]
    [InlineData("llama-3.2.jinja")]
    public void Render_Llama3WithToolsAndToolTurns_MatchesTheTemplatesFormat(string file)
    {
        var builder = ChatPromptBuilder.ForModel(Template(file), "<|begin_of_text|>", "<|eot_id|>");

        var prompt = builder.Render(Conversation, Tools);

        Assert.True(builder.SupportsTools);
        Assert.Equal(ToolCallSyntax.Llama3Json, builder.ToolSyntax);
        // The date line comes from the clock (3.2) or the template's default (3.1); everything else is fixed.
        var dateEnd = prompt.IndexOf("\n\nYou are helpful.", StringComparison.Ordinal);
        Assert.StartsWith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\nCutting Knowledge Date: December 2023\nToday Date: ", prompt, StringComparison.Ordinal);
        var expectedTail = "\n\nYou are helpful.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\n"
            + "Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n\n"
            + "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n\n"
            + JsonSerializer.Serialize(JsonDocument.Parse(WeatherTool).RootElement, new JsonSerializerOptions { WriteIndented = true, IndentSize = 4 }).Replace("\r\n", "\n", StringComparison.Ordinal)
            + "\n\nWeather in Paris?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}<|eot_id|>"
            + "<|start_header_id|>ipython<|end_header_id|>\n\n\"{\\\"temp\\\": 21}\"<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        Assert.Equal(expectedTail, prompt[dateEnd..]);
    }

    [Fact]
    public void Render_ChatMlWithoutToolSupport_SpellsToolsAndCallsInTheDefaultFormat()
    {
        var builder = ChatPromptBuilder.ForModel(Template("chatml.jinja"), "", "");

        var prompt = builder.Render(Conversation, Tools);

        Assert.False(builder.SupportsTools);
        Assert.Equal(ToolCallSyntax.Hermes, builder.ToolSyntax);
        var expected = "<|im_start|>system\nYou are helpful.\n\n" + ToolPrompt.Describe(Tools.Tools) + "<|im_end|>\n"
            + "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
            + "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n"
            + "<|im_start|>tool\n<tool_response>\n{\"temp\": 21}\n</tool_response><|im_end|>\n"
            + "<|im_start|>assistant\n";
        Assert.Equal(expected, prompt);
        Assert.Contains("<tools>\n" + WeatherTool + "\n</tools>", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NoTemplateAndNoSystemMessage_AddsASystemMessageWithTheTools()
    {
        var builder = ChatPromptBuilder.ForModel(null, "", "");

        var prompt = builder.Render([new ChatMessage("user", "Hi")], Tools);

        Assert.Equal("<|im_start|>system\n" + ToolPrompt.Describe(Tools.Tools) + "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", prompt);
    }

    [Fact]
    public void Render_ToolChoiceNone_LeavesToolsOutButKeepsTheHistory()
    {
        var builder = ChatPromptBuilder.ForModel(Template("qwen3.jinja"), "", "<|im_end|>");

        var prompt = builder.Render(Conversation, Tools with { Choice = ToolChoiceMode.None });

        Assert.DoesNotContain("<tools>", prompt, StringComparison.Ordinal);
        Assert.StartsWith("<|im_start|>system\nYou are helpful.<|im_end|>\n", prompt, StringComparison.Ordinal);
        Assert.Contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", prompt, StringComparison.Ordinal);
        Assert.Contains("<tool_response>\n{\"temp\": 21}\n</tool_response>", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Llama31TwoCallsInOneMessage_IsA400NamingTheTemplatesLimit()
    {
        var builder = ChatPromptBuilder.ForModel(Template("llama-3.1.jinja"), "<|begin_of_text|>", "<|eot_id|>");
        var call = Conversation[2].ToolCalls![0];
        ChatMessage[] messages = [Conversation[1], Conversation[2] with { ToolCalls = [call, call with { Id = "call_2" }] }];

        var error = Assert.Throws<WrinkleFree.Replica.Backends.BackendException>(() => builder.Render(messages, Tools));

        Assert.Equal(400, error.Status);
        Assert.Contains("only supports single tool-calls", error.Message, StringComparison.Ordinal);
    }
}
