using System.Text.Json;
using WrinkleFree.Replica.Chat;

namespace WrinkleFree.Replica.Tests.Chat;

/// <summary>Real model templates render a system+user+assistant+user conversation exactly as transformers would.</summary>
public sealed class RealTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new("system", "You are a helpful assistant."),
        new("user", "Hello"),
        new("assistant", "Hi there!"),
        new("user", "How are you?"),
    ];

    private static string Render(string template, bool addGenerationPrompt, IReadOnlyList<ChatMessage>? messages = null,
        IReadOnlyDictionary<string, object?>? extra = null, string bos = "<s>", string eos = "</s>") =>
        ChatTemplate.Parse(template).Render(messages ?? Conversation, addGenerationPrompt, bos, eos, extra);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Render_Llama3_MatchesExpected(bool addGenerationPrompt)
    {
        var expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there!<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
            + (addGenerationPrompt ? "<|start_header_id|>assistant<|end_header_id|>\n\n" : "");
        Assert.Equal(expected, Render(RealTemplates.Llama3, addGenerationPrompt, bos: "<|begin_of_text|>", eos: "<|eot_id|>"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Render_Llama31_MatchesExpected(bool addGenerationPrompt)
    {
        var expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are a helpful assistant.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there!<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
            + (addGenerationPrompt ? "<|start_header_id|>assistant<|end_header_id|>\n\n" : "");
        Assert.Equal(expected, Render(RealTemplates.Llama31, addGenerationPrompt, bos: "<|begin_of_text|>", eos: "<|eot_id|>"));
    }

    [Fact]
    public void Render_Llama31WithToolsAndDate_PutsToolsInFirstUserMessage()
    {
        var tools = JsonDocument.Parse("""[{"type": "function", "function": {"name": "get_time", "parameters": {}}}]""").RootElement;
        var extra = new Dictionary<string, object?> { ["tools"] = tools, ["date_string"] = "01 Jan 2025" };
        var expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            + "Environment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 01 Jan 2025\n\nYou are a helpful assistant.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\n"
            + "Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n\n"
            + "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n\n"
            + "{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"get_time\",\n        \"parameters\": {}\n    }\n}\n\n"
            + "Hello<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there!<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        Assert.Equal(expected, Render(RealTemplates.Llama31, true, extra: extra, bos: "<|begin_of_text|>"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Render_Qwen25_MatchesExpected(bool addGenerationPrompt)
    {
        var expected = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            + "<|im_start|>user\nHello<|im_end|>\n"
            + "<|im_start|>assistant\nHi there!<|im_end|>\n"
            + "<|im_start|>user\nHow are you?<|im_end|>\n"
            + (addGenerationPrompt ? "<|im_start|>assistant\n" : "");
        Assert.Equal(expected, Render(RealTemplates.Qwen25, addGenerationPrompt));
    }

    [Fact]
    public void Render_Qwen25WithoutSystemWithTools_UsesDefaultSystemAndToolsBlock()
    {
        var tools = JsonDocument.Parse("""[{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}}]""").RootElement;
        var expected = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
            + "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
            + "\n{\"type\": \"function\", \"function\": {\"name\": \"f\", \"description\": \"d\", \"parameters\": {\"type\": \"object\"}}}"
            + "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
            + "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
            + "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n";
        Assert.Equal(expected, Render(RealTemplates.Qwen25, true, [new("user", "Hello")], new Dictionary<string, object?> { ["tools"] = tools }));
    }

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, null)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Render_Qwen3_MatchesExpected(bool addGenerationPrompt, bool? enableThinking)
    {
        var extra = enableThinking is null ? null : new Dictionary<string, object?> { ["enable_thinking"] = enableThinking };
        var expected = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            + "<|im_start|>user\nHello<|im_end|>\n"
            + "<|im_start|>assistant\nHi there!<|im_end|>\n"
            + "<|im_start|>user\nHow are you?<|im_end|>\n"
            + (addGenerationPrompt ? "<|im_start|>assistant\n" : "")
            + (addGenerationPrompt && enableThinking == false ? "<think>\n\n</think>\n\n" : "");
        Assert.Equal(expected, Render(RealTemplates.Qwen3, addGenerationPrompt, extra: extra));
    }

    [Fact]
    public void Render_Qwen3WithThinkingInHistory_DropsOldReasoningAndKeepsCurrent()
    {
        ChatMessage[] messages =
        [
            new("user", "Q1"),
            new("assistant", "<think>\nold plan\n</think>\n\nA1"),
            new("user", "Q2"),
            new("assistant", "<think>\nnew plan\n</think>\n\nA2"),
        ];
        var expected = "<|im_start|>user\nQ1<|im_end|>\n"
            + "<|im_start|>assistant\nA1<|im_end|>\n"
            + "<|im_start|>user\nQ2<|im_end|>\n"
            + "<|im_start|>assistant\n<think>\nnew plan\n</think>\n\nA2<|im_end|>\n";
        Assert.Equal(expected, Render(RealTemplates.Qwen3, false, messages));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Render_BitNet2B4T_MatchesExpected(bool addGenerationPrompt)
    {
        var expected = "<|begin_of_text|>System: You are a helpful assistant.<|eot_id|>User: Hello<|eot_id|>Assistant: Hi there!<|eot_id|>"
            + "User: How are you?<|eot_id|>" + (addGenerationPrompt ? "Assistant: " : "");
        Assert.Equal(expected, Render(RealTemplates.BitNet2B4T, addGenerationPrompt, bos: "<|begin_of_text|>", eos: "<|eot_id|>"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Render_ChatMl_MatchesExpected(bool addGenerationPrompt)
    {
        var expected = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            + "<|im_start|>user\nHello<|im_end|>\n"
            + "<|im_start|>assistant\nHi there!<|im_end|>\n"
            + "<|im_start|>user\nHow are you?<|im_end|>\n"
            + (addGenerationPrompt ? "<|im_start|>assistant\n" : "");
        Assert.Equal(expected, ChatTemplate.ChatMl.Render(Conversation, addGenerationPrompt, "", ""));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Render_ChatMlMultiline_KeepsIndentOfOutputLinesLikeTransformers(bool addGenerationPrompt)
    {
        // lstrip_blocks strips indentation before block tags only; the '{{ }}' lines keep theirs and their newline.
        var expected = "    <|im_start|>system\nYou are a helpful assistant.<|im_end|>\n\n"
            + "    <|im_start|>user\nHello<|im_end|>\n\n"
            + "    <|im_start|>assistant\nHi there!<|im_end|>\n\n"
            + "    <|im_start|>user\nHow are you?<|im_end|>\n\n"
            + (addGenerationPrompt ? "    <|im_start|>assistant\n\n" : "");
        Assert.Equal(expected, Render(RealTemplates.ChatMlMultiline, addGenerationPrompt));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Render_Phi3_MatchesExpected(bool addGenerationPrompt)
    {
        var expected = "<|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there!<|end|>\n"
            + "<|user|>\nHow are you?<|end|>\n" + (addGenerationPrompt ? "<|assistant|>\n" : "<|endoftext|>");
        Assert.Equal(expected, Render(RealTemplates.Phi3, addGenerationPrompt, eos: "<|endoftext|>"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Render_MistralWithoutSystem_MatchesExpected(bool addGenerationPrompt)
    {
        Assert.Equal(
            "<s>[INST] Hello [/INST]Hi there!</s>[INST] How are you? [/INST]",
            Render(RealTemplates.MistralInstruct, addGenerationPrompt, Conversation[1..]));
    }

    [Fact]
    public void Render_MistralWithSystem_RaisesRolesMustAlternate()
    {
        var e = Assert.Throws<ChatTemplateException>(() => Render(RealTemplates.MistralInstruct, true));
        Assert.Equal("Conversation roles must alternate user/assistant/user/assistant/...", e.Detail);
        Assert.Contains("Conversation roles must alternate", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, e.Line);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Render_Llama2_MergesSystemIntoFirstInstruction(bool addGenerationPrompt)
    {
        Assert.Equal(
            "<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nHello [/INST] Hi there! </s><s>[INST] How are you? [/INST]",
            Render(RealTemplates.Llama2, addGenerationPrompt));
    }
}
