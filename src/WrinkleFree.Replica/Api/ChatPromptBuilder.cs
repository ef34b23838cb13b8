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
    }

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
    public string Render(IReadOnlyList<ChatMessage> messages)
    {
        if (messages.Count == 0)
        {
            throw new BackendException(400, "invalid_request_error", "chat template error: there are no messages to render", "messages");
        }

        try
        {
            return _template.Render(messages, addGenerationPrompt: true, _bos, _eos);
        }
        catch (ChatTemplateException e)
        {
            throw new BackendException(400, "invalid_request_error", $"chat template error: {e.Message}", "messages", "chat_template_error");
        }
    }
}
