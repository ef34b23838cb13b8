using WrinkleFree.Jinja;

namespace WrinkleFree.Replica.Chat;

/// <summary>
/// A parsed <c>tokenizer.chat_template</c> (a Jinja template), rendered the way transformers' apply_chat_template does:
/// trim_blocks and lstrip_blocks on, <c>messages</c>, <c>bos_token</c>, <c>eos_token</c>, <c>add_generation_prompt</c>,
/// <c>tools</c> (none unless given), <c>raise_exception</c> and <c>strftime_now</c> in scope.
/// </summary>
/// <remarks>
/// The interpreter is <see cref="JinjaTemplate"/>; this layer adds the chat variables and the two chat-only functions.
/// Two transformers conventions stay inside the interpreter because they are part of how it parses and filters, not
/// values a caller supplies: the <c>{% generation %}</c> tag (rendered transparently) and <c>tojson</c> as transformers
/// defines it (json.dumps with ensure_ascii off, not Jinja's HTML-safe default).
/// </remarks>
public sealed class ChatTemplate
{
    private const string ChatMlSource =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
        + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private static readonly Lazy<ChatTemplate> ChatMlTemplate = new(() => Parse(ChatMlSource));

    private static readonly JinjaFunction RaiseException = arguments =>
        throw new JinjaException(arguments.GetString(0, "raise_exception called"));

    private readonly JinjaTemplate _template;

    private ChatTemplate(JinjaTemplate template) => _template = template;

    /// <summary>The ChatML template, the fallback for models whose GGUF has no chat template.</summary>
    public static ChatTemplate ChatMl => ChatMlTemplate.Value;

    /// <summary>The template text this instance was parsed from.</summary>
    public string Source => _template.Source;

    /// <summary>Parses a template; a syntax error throws <see cref="ChatTemplateException"/> naming its line and column.</summary>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            return new ChatTemplate(JinjaTemplate.Parse(source));
        }
        catch (JinjaException e)
        {
            throw ToChatTemplateException(e);
        }
    }

    /// <summary>
    /// Renders the conversation into a prompt. <paramref name="extra"/> adds template variables (tools, enable_thinking,
    /// date_string...); its values may be .NET primitives, dictionaries, enumerables or System.Text.Json elements and nodes.
    /// An <c>extra["now"]</c> DateTimeOffset fixes the clock <c>strftime_now</c> reads. Runtime errors, including
    /// <c>raise_exception(msg)</c>, throw <see cref="ChatTemplateException"/>.
    /// </summary>
    public string Render(
        IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, string bosToken, string eosToken,
        IReadOnlyDictionary<string, object?>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var now = extra is not null && extra.TryGetValue("now", out var given) && given is DateTimeOffset fixedTime
            ? fixedTime
            : TimeProvider.System.GetLocalNow();

        // Later entries win, so the caller's extra values shadow the two functions and the conversation shadows extra.
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["raise_exception"] = RaiseException,
            ["strftime_now"] = (JinjaFunction)(arguments => PythonStrftime.Format(now, arguments.GetString(0, "%Y-%m-%d"))),
            ["tools"] = null,
        };
        if (extra is not null)
        {
            foreach (var (name, value) in extra)
            {
                variables[name] = value;
            }
        }

        var list = new List<object?>(messages.Count);
        foreach (var message in messages)
        {
            list.Add(ToTemplateMessage(message));
        }

        variables["messages"] = list;
        variables["add_generation_prompt"] = addGenerationPrompt;
        variables["bos_token"] = bosToken;
        variables["eos_token"] = eosToken;
        try
        {
            return _template.Render(variables);
        }
        catch (JinjaException e)
        {
            throw ToChatTemplateException(e);
        }
    }

    /// <summary>
    /// A message as HF passes it to templates: tool_calls, tool_call_id and name only when set (templates test
    /// <c>'tool_calls' in message</c>), call arguments as a mapping rather than the JSON text OpenAI sends.
    /// </summary>
    private static OrderedDictionary<string, object?> ToTemplateMessage(ChatMessage message)
    {
        var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["role"] = message.Role,
            ["content"] = message.ContentIsNull ? null : message.Content,
        };
        if (message.ToolCalls is { Count: > 0 } calls)
        {
            var list = new List<object?>(calls.Count);
            foreach (var call in calls)
            {
                list.Add(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["id"] = call.Id,
                    ["type"] = "function",
                    ["function"] = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
                    {
                        ["name"] = call.Name,
                        ["arguments"] = call.ArgumentsObject is { } parsed ? parsed : call.Arguments,
                    },
                });
            }

            dict["tool_calls"] = list;
        }

        if (message.ToolCallId is { } id)
        {
            dict["tool_call_id"] = id;
        }

        if (message.Name is { } name)
        {
            dict["name"] = name;
        }

        return dict;
    }

    private static ChatTemplateException ToChatTemplateException(JinjaException e) => new(e.Detail, e.Line, e.Column);
}
