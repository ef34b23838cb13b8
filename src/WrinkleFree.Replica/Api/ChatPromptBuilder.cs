using WrinkleFree.Replica.Backends;
using WrinkleFree.Replica.Chat;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// Turns chat messages into prompt text with the model's <c>tokenizer.chat_template</c> (ChatML when the model has none).
/// A template that does not parse is reported when the model loads and falls back to ChatML; a template that fails while
/// rendering (raise_exception, a type error) is a 400 naming the template problem.
/// </summary>
internal sealed class ChatPromptBuilder
{
    private readonly ChatTemplate _template;
    private readonly string _bos;
    private readonly string _eos;

    private ChatPromptBuilder(ChatTemplate template, bool usesModelTemplate, string bos, string eos, string? parseError)
    {
        _template = template;
        UsesModelTemplate = usesModelTemplate;
        _bos = bos;
        _eos = eos;
        ParseError = parseError;
        (SupportsTools, ToolSyntax) = ToolSupport(usesModelTemplate ? template.Source : "");
    }

    /// <summary>Whether the template renders <c>tools</c> itself; if not, <see cref="ToolPrompt"/> spells them into the messages.</summary>
    public bool SupportsTools { get; }

    /// <summary>How this model writes a tool call (what its template teaches it).</summary>
    public ToolCallSyntax ToolSyntax { get; }

    /// <summary>Whether the model's own template is used (false: ChatML fallback).</summary>
    public bool UsesModelTemplate { get; }

    /// <summary>Why the model's template could not be used, when it was present but did not parse.</summary>
    public string? ParseError { get; }

    public static ChatPromptBuilder ForModel(string? template, string bos, string eos)
    {
        if (string.IsNullOrWhiteSpace(template))
        {
            return new ChatPromptBuilder(ChatTemplate.ChatMl, false, bos, eos, null);
        }

        try
        {
            return new ChatPromptBuilder(ChatTemplate.Parse(template), true, bos, eos, null);
        }
        catch (ChatTemplateException e)
        {
            return new ChatPromptBuilder(ChatTemplate.ChatMl, false, bos, eos, e.Message);
        }
    }

    /// <summary>The prompt text ending with the assistant header; a template error becomes a 400 naming the problem.</summary>
    public string Render(IReadOnlyList<ChatMessage> messages, ChatToolOptions? tools = null)
    {
        if (messages.Count == 0)
        {
            throw new BackendException(400, "invalid_request_error", "chat template error: there are no messages to render", "messages");
        }

        try
        {
            // tool_choice none: the tools are left out of the prompt, so the model is not invited to call them.
            var offered = tools is { ParsesCalls: true } ? tools.Tools : null;
            if (!SupportsTools)
            {
                return _template.Render(ToolPrompt.Inline(messages, offered), addGenerationPrompt: true, _bos, _eos);
            }

            var extra = offered is null ? null : new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["tools"] = offered.Select(t => (object?)t.Definition).ToList(),
            };
            return _template.Render(messages, addGenerationPrompt: true, _bos, _eos, extra);
        }
        catch (ChatTemplateException e)
        {
            throw new BackendException(400, "invalid_request_error", $"chat template error: {e.Message}", "messages", "chat_template_error");
        }
    }

    /// <summary>
    /// Reads from the template's text whether it renders tools and which call syntax it teaches: Hermes
    /// <c>&lt;tool_call&gt;</c> blocks (Qwen, Hermes), or Llama 3.x's bare JSON with "parameters".
    /// </summary>
    private static (bool Supports, ToolCallSyntax Syntax) ToolSupport(string source)
    {
        if (source.Contains("<tool_call>", StringComparison.Ordinal))
        {
            return (true, ToolCallSyntax.Hermes);
        }

        if (source.Contains("<|start_header_id|>", StringComparison.Ordinal) && source.Contains("tools", StringComparison.Ordinal)
            && source.Contains("\"parameters\"", StringComparison.Ordinal))
        {
            return (true, ToolCallSyntax.Llama3Json);
        }

        return (false, ToolCallSyntax.Hermes);
    }
}
