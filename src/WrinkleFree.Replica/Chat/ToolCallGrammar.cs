using System.Globalization;
using System.Text;
using System.Text.Json;
using WrinkleFree.Inference.Sampling.Constraints;

namespace WrinkleFree.Replica.Chat;

/// <summary>
/// The GBNF that forces a model's output to be tool calls (tool_choice required or a named function): exactly the
/// call block the model's template teaches (<see cref="ToolCallSyntax"/>), naming one of the callable tools, whose
/// arguments match that tool's parameters schema (<see cref="JsonSchemaConstraint"/>). Each tool's schema grammar is
/// compiled on its own, so its <c>$ref</c>s resolve against its own parameters, and its rules are renamed apart.
/// </summary>
public static class ToolCallGrammar
{
    /// <summary>
    /// The grammar text (root rule <c>root</c>). Throws <see cref="JsonSchemaException"/> when a tool's parameters use a
    /// schema keyword the constraint cannot enforce; its path starts at that tool.
    /// </summary>
    public static string Build(ToolCallSyntax syntax, ChatToolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var rules = new StringBuilder();
        var alternatives = new List<string>();
        var argumentsKey = syntax == ToolCallSyntax.Hermes ? "arguments" : "parameters";
        var i = 0;
        foreach (var tool in options.Callable)
        {
            var prefix = $"t{i.ToString(CultureInfo.InvariantCulture)}-";
            string schemaGbnf;
            try
            {
                schemaGbnf = JsonSchemaConstraint.ToGbnf(tool.Parameters ?? AnyObject.RootElement);
            }
            catch (JsonSchemaException e)
            {
                var detail = e.Message.StartsWith(e.Path + ": ", StringComparison.Ordinal) ? e.Message[(e.Path.Length + 2)..] : e.Message;
                throw new JsonSchemaException($"tool '{tool.Name}' parameters {e.Path}", e.Keyword, detail);
            }

            rules.Append(Rename(schemaGbnf, prefix));
            var head = JsonSerializer.Serialize(tool.Name) + ", \"" + argumentsKey + "\": ";
            alternatives.Add($"{Literal(head)} {prefix}root");
            i++;
        }

        var call = syntax == ToolCallSyntax.Hermes
            ? $"{Literal("<tool_call>\n{\"name\": ")} ( {string.Join(" | ", alternatives)} ) {Literal("}\n</tool_call>")}"
            : $"{Literal("{\"name\": ")} ( {string.Join(" | ", alternatives)} ) {Literal("}")}";
        var separator = syntax == ToolCallSyntax.Hermes ? "\n" : "; ";
        var root = options.AllowsParallel ? $"call ( {Literal(separator)} call )*" : "call";
        return $"root ::= {root}\ncall ::= {call}\n{rules}";
    }

    private static readonly JsonDocument AnyObject = JsonDocument.Parse("""{"type": "object"}""");

    private static string Literal(string text)
    {
        var sb = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            _ = c switch
            {
                '"' => sb.Append("\\\""),
                '\\' => sb.Append("\\\\"),
                '\n' => sb.Append("\\n"),
                < ' ' => sb.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture)),
                _ => sb.Append(c),
            };
        }

        return sb.Append('"').ToString();
    }

    /// <summary>Prefixes every rule name in <paramref name="gbnf"/>, leaving literals, classes, repetitions and comments alone.</summary>
    private static string Rename(string gbnf, string prefix)
    {
        var sb = new StringBuilder(gbnf.Length * 5 / 4);
        var i = 0;
        while (i < gbnf.Length)
        {
            var c = gbnf[i];
            if (c is '"' or '[' or '{')
            {
                var end = c switch { '"' => '"', '[' => ']', _ => '}' };
                var j = i + 1;
                while (j < gbnf.Length && gbnf[j] != end)
                {
                    j += gbnf[j] == '\\' ? 2 : 1;
                }

                j = Math.Min(j + 1, gbnf.Length);
                sb.Append(gbnf, i, j - i);
                i = j;
            }
            else if (c == '#')
            {
                var j = gbnf.IndexOf('\n', i);
                i = j < 0 ? gbnf.Length : j;
            }
            else if (char.IsAsciiLetter(c))
            {
                var j = i;
                while (j < gbnf.Length && (char.IsAsciiLetterOrDigit(gbnf[j]) || gbnf[j] is '-' or '_'))
                {
                    j++;
                }

                sb.Append(prefix).Append(gbnf, i, j - i);
                i = j;
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }

        return sb.ToString();
    }
}
