using System.Text;
using WrinkleFree.Jinja;

namespace WrinkleFree.Fuzz.Targets;

/// <summary>
/// The template language: parse the bytes (as UTF-8) as a template and render it with a fixed chat context (messages,
/// bos/eos tokens, add_generation_prompt, a tool list and raise_exception). Clean rejection: a
/// <see cref="JinjaException"/> the language raised on purpose. One that wraps another exception is the engine's
/// "internal template error" guard catching a bug, so it counts as a crash, as does anything that escapes.
/// </summary>
internal sealed class JinjaTarget : FuzzTarget
{
    private static readonly IReadOnlyDictionary<string, object?> Context = new Dictionary<string, object?>
    {
        ["messages"] = new List<object?>
        {
            new Dictionary<string, object?> { ["role"] = "system", ["content"] = "You are terse." },
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Hi <|eot_id|> there" },
            new Dictionary<string, object?> { ["role"] = "assistant", ["content"] = "Hello." },
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "" },
        },
        ["bos_token"] = "<|begin_of_text|>",
        ["eos_token"] = "<|eot_id|>",
        ["add_generation_prompt"] = true,
        ["tools"] = new List<object?>
        {
            new Dictionary<string, object?> { ["type"] = "function", ["function"] = new Dictionary<string, object?> { ["name"] = "f", ["parameters"] = new Dictionary<string, object?>() } },
        },
        ["raise_exception"] = new JinjaFunction(args => throw new JinjaException(args.GetString(0, "raise_exception called"))),
    };

    public override string Name => "jinja";

    public override int MaxInputBytes => 8 * 1024;

    public override IReadOnlyList<byte[]> Dictionary { get; } = Tokens(
        "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "{{-", "-}}", " if ", " elif ", " else ", " endif ", " for ", " in ",
        " endfor ", " set ", " endset ", " macro ", " endmacro ", " call ", " filter ", " raw ", " endraw ", " loop.index0 ",
        " messages ", " message['role'] ", " message['content'] ", " bos_token ", " add_generation_prompt ", " tools ",
        " namespace(a=1) ", " range(3) ", " raise_exception('x') ", "|trim", "|tojson", "|length", "|join(', ')", "|first",
        "|last", "|items", "|dictsort", "|selectattr('role', 'equalto', 'user')", "|map(attribute='role')", "|string",
        "|int", "|float", "|default('d')", "|replace('a','b')", "|upper", "[::-1]", "[1:]", " is defined ", " is none ",
        " not ", " and ", " or ", " ~ ", " + ", " * ", " // ", " % ", " ** ", "==", "!=", "<=", "'s'", "\"t\"", "1e308", "-1");

    public override bool Execute(ReadOnlySpan<byte> data)
    {
        try
        {
            var template = JinjaTemplate.Parse(Encoding.UTF8.GetString(data));
            _ = template.Render(Context);
            return true;
        }
        catch (JinjaException e) when (e.InnerException is null or JinjaException)
        {
            return false;
        }
    }
}
