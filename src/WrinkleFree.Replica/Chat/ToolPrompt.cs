using System.Text;

namespace WrinkleFree.Replica.Chat;

/// <summary>
/// The default tool format for chat templates that know nothing of tools (ChatML, older fine-tunes): the Hermes/Qwen
/// convention spelled into the conversation itself. The tools are listed in the system message (prepended to the
/// client's, or a new first message), each as its <c>{"type":"function","function":{...}}</c> JSON inside
/// <c>&lt;tools&gt;&lt;/tools&gt;</c>; an assistant's earlier calls become <c>&lt;tool_call&gt;{json}&lt;/tool_call&gt;</c>
/// blocks in its content, and tool results are wrapped in <c>&lt;tool_response&gt;</c>. The model is asked to answer
/// with <see cref="ToolCallSyntax.Hermes"/> blocks, which <see cref="ToolCallStream"/> reads.
/// </summary>
public static class ToolPrompt
{
    /// <summary>The system text that declares <paramref name="tools"/>.</summary>
    public static string Describe(IReadOnlyList<ChatTool> tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var text = new StringBuilder("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n")
            .Append("You are provided with function signatures within <tools></tools> XML tags:\n<tools>");
        foreach (var tool in tools)
        {
            text.Append('\n').Append(tool.Definition.GetRawText());
        }

        return text.Append("\n</tools>\n\nFor each function call, return a json object with function name and arguments within ")
            .Append("<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>")
            .ToString();
    }

    /// <summary>
    /// The conversation with tools and tool traffic spelled as text, for a template without tool support.
    /// <paramref name="tools"/> null or empty: only the history is rewritten.
    /// </summary>
    public static IReadOnlyList<ChatMessage> Inline(IReadOnlyList<ChatMessage> messages, IReadOnlyList<ChatTool>? tools)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var result = new List<ChatMessage>(messages.Count + 1);
        foreach (var m in messages)
        {
            if (m.ToolCalls is { Count: > 0 } toolCalls)
            {
                var content = new StringBuilder(m.Content);
                foreach (var call in toolCalls)
                {
                    if (content.Length > 0)
                    {
                        content.Append('\n');
                    }

                    content.Append("<tool_call>\n{\"name\": ").Append(System.Text.Json.JsonSerializer.Serialize(call.Name))
                        .Append(", \"arguments\": ").Append(call.Arguments).Append("}\n</tool_call>");
                }

                result.Add(new ChatMessage(m.Role, content.ToString()));
            }
            else if (m.Role == "tool")
            {
                result.Add(new ChatMessage("tool", "<tool_response>\n" + m.Content + "\n</tool_response>"));
            }
            else
            {
                result.Add(m with { ToolCalls = null, ToolCallId = null, ContentIsNull = false });
            }
        }

        if (tools is { Count: > 0 })
        {
            var described = Describe(tools);
            if (result.Count > 0 && result[0].Role is "system" or "developer")
            {
                result[0] = result[0] with { Content = result[0].Content + "\n\n" + described };
            }
            else
            {
                result.Insert(0, new ChatMessage("system", described));
            }
        }

        return result;
    }
}
