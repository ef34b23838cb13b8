namespace WrinkleFree.Replica.Chat;

/// <summary>
/// A parsed <c>tokenizer.chat_template</c> (a Jinja template), rendered the way transformers' apply_chat_template does:
/// trim_blocks and lstrip_blocks on, <c>messages</c>, <c>bos_token</c>, <c>eos_token</c>, <c>add_generation_prompt</c>,
/// <c>tools</c> (none unless given), <c>raise_exception</c> and <c>strftime_now</c> in scope.
/// </summary>
public sealed class ChatTemplate
{
    private const string ChatMlSource =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
        + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    // range() materialises a list; a bound keeps a hostile template from allocating without limit.
    private const long MaxRange = 100_000;

    private static readonly Lazy<ChatTemplate> ChatMlTemplate = new(() => Parse(ChatMlSource));

    private readonly IReadOnlyList<JinjaStmt> _body;

    private ChatTemplate(string source, IReadOnlyList<JinjaStmt> body)
    {
        Source = source;
        _body = body;
    }

    /// <summary>The ChatML template, the fallback for models whose GGUF has no chat template.</summary>
    public static ChatTemplate ChatMl => ChatMlTemplate.Value;

    /// <summary>The template text this instance was parsed from.</summary>
    public string Source { get; }

    /// <summary>Parses a template; a syntax error throws <see cref="ChatTemplateException"/> naming its line and column.</summary>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Guard(() => new ChatTemplate(source, JinjaParser.Parse(source)));
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
        return Guard(() =>
        {
            var globals = CreateGlobals(extra);
            var variables = new JinjaScope(globals);
            variables.Set("tools", null);
            if (extra is not null)
            {
                foreach (var (name, value) in extra)
                {
                    try
                    {
                        variables.Set(name, JinjaValues.FromClr(value));
                    }
                    catch (JinjaError e)
                    {
                        throw new ChatTemplateException($"template variable '{name}': {e.Message}", 1, 1);
                    }
                }
            }

            var list = new List<object?>(messages.Count);
            foreach (var message in messages)
            {
                list.Add(new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["role"] = message.Role, ["content"] = message.Content });
            }

            variables.Set("messages", list);
            variables.Set("add_generation_prompt", addGenerationPrompt);
            variables.Set("bos_token", bosToken);
            variables.Set("eos_token", eosToken);
            return JinjaRenderer.Render(_body, variables);
        });
    }

    // Any failure inside the interpreter must reach the caller as a template problem (an HTTP 400), never as a crash of the
    // request; the fuzz tests check that only deliberate errors occur.
    private static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (ChatTemplateException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ChatTemplateException($"internal template error: {e.GetType().Name}: {e.Message}", 1, 1);
        }
    }

    private static JinjaScope CreateGlobals(IReadOnlyDictionary<string, object?>? extra)
    {
        var now = extra is not null && extra.TryGetValue("now", out var given) && given is DateTimeOffset fixedTime
            ? fixedTime
            : TimeProvider.System.GetLocalNow();
        var globals = new JinjaScope(null);
        globals.Set("raise_exception", new JinjaCallable("raise_exception", (args, _) =>
            throw new JinjaError(args.Count > 0 ? JinjaValues.ToStr(args[0]) : "raise_exception called")));
        globals.Set("strftime_now", new JinjaCallable("strftime_now", (args, _) =>
            JinjaStrftime.Format(now, args.Count > 0 ? JinjaValues.ToStr(args[0]) : "%Y-%m-%d")));
        globals.Set("range", new JinjaCallable("range", (args, _) => Range(args)));
        globals.Set("namespace", new JinjaCallable("namespace", (args, kwargs) =>
        {
            var ns = new JinjaNamespace();
            if (args.Count > 0 && args[0] is OrderedDictionary<string, object?> initial)
            {
                foreach (var (k, v) in initial)
                {
                    ns.Attributes[k] = v;
                }
            }

            foreach (var (k, v) in kwargs)
            {
                ns.Attributes[k] = v;
            }

            return ns;
        }));
        globals.Set("dict", new JinjaCallable("dict", (_, kwargs) =>
        {
            var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (k, v) in kwargs)
            {
                dict[k] = v;
            }

            return dict;
        }));
        return globals;
    }

    private static List<object?> Range(List<object?> args)
    {
        var (start, stop, step) = args.Count switch
        {
            1 => (0L, JinjaValues.AsLong(args[0]), 1L),
            2 => (JinjaValues.AsLong(args[0]), JinjaValues.AsLong(args[1]), 1L),
            3 => (JinjaValues.AsLong(args[0]), JinjaValues.AsLong(args[1]), JinjaValues.AsLong(args[2])),
            _ => throw new JinjaError("range expected 1 to 3 arguments"),
        };
        if (step == 0)
        {
            throw new JinjaError("range() arg 3 must not be zero");
        }

        var result = new List<object?>();
        for (var i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (result.Count >= MaxRange)
            {
                throw new JinjaError($"range() is limited to {MaxRange} items in chat templates");
            }

            result.Add(i);
        }

        return result;
    }
}
