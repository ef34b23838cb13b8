using System.Collections.Concurrent;
using WrinkleFree.Inference.Sampling.Constraints;
using WrinkleFree.Replica.Backends;
using WrinkleFree.Replica.Chat;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// Compiled tool-call grammars by their GBNF text. An agent sends the same tools on every turn, and a grammar's token
/// masks are built lazily and kept on the instance, so reusing it keeps the mask work off later requests. Bounded: past
/// <see cref="Capacity"/> distinct grammars the cache starts over rather than growing with hostile traffic.
/// </summary>
internal sealed class ToolGrammarCache
{
    public const int Capacity = 64;

    private readonly ConcurrentDictionary<string, Grammar> _grammars = new(StringComparer.Ordinal);

    /// <summary>The grammar forcing a call for <paramref name="tools"/>; a schema the constraint cannot enforce is a 400 naming it.</summary>
    public Grammar For(ToolCallSyntax syntax, ChatToolOptions tools)
    {
        string gbnf;
        try
        {
            gbnf = ToolCallGrammar.Build(syntax, tools);
        }
        catch (JsonSchemaException e)
        {
            throw new BackendException(400, "invalid_request_error",
                $"tool_choice {(tools.Choice == ToolChoiceMode.Required ? "required" : "naming a function")} constrains the call to the tool's parameters schema, which this server cannot enforce: {e.Message}",
                "tools", "unsupported_schema");
        }

        if (_grammars.TryGetValue(gbnf, out var cached))
        {
            return cached;
        }

        if (_grammars.Count >= Capacity)
        {
            _grammars.Clear();
        }

        try
        {
            return _grammars.GetOrAdd(gbnf, text => Grammar.Parse(text));
        }
        catch (GrammarException e)
        {
            throw new BackendException(400, "invalid_request_error", $"the tools' parameters schemas give no valid call grammar: {e.Message}", "tools", "unsupported_schema");
        }
    }
}
