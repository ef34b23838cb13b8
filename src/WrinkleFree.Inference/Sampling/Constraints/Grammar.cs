using System.Text;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>
/// A GBNF grammar (llama.cpp's syntax) ready to constrain generation. Parsing checks it fully (syntax, undefined rules,
/// left recursion); the matcher and its per-state token masks are built lazily and shared by every sequence that uses
/// this instance, so reuse one instance for repeated requests with the same grammar.
/// </summary>
public sealed class Grammar
{
    private readonly GrammarAutomaton _automaton;

    private Grammar(string source, CompiledGrammar compiled)
    {
        Source = source;
        _automaton = new GrammarAutomaton(compiled);
    }

    /// <summary>The GBNF text this grammar was parsed from.</summary>
    public string Source { get; }

    /// <summary>Parses <paramref name="gbnf"/>; throws <see cref="GrammarException"/> naming the line, column and problem.</summary>
    public static Grammar Parse(string gbnf, string root = "root")
    {
        ArgumentNullException.ThrowIfNull(gbnf);
        return new Grammar(gbnf, GbnfParser.Parse(gbnf, root));
    }

    /// <summary>A constraint for one sequence over <paramref name="tokenizer"/>'s vocabulary.</summary>
    public ITokenConstraint CreateConstraint(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return new GrammarConstraint(_automaton, TokenTrie.ForStart(tokenizer), TokenTrie.For(tokenizer));
    }

    /// <summary>Whether <paramref name="text"/> is a complete document of the grammar.</summary>
    public bool Accepts(string text)
    {
        lock (_automaton.Sync)
        {
            var state = _automaton.Run(Encoding.UTF8.GetBytes(text));
            return state != GrammarAutomaton.Dead && _automaton.IsAccepting(state);
        }
    }

    /// <summary>Whether <paramref name="text"/> can still be continued to a complete document.</summary>
    public bool AcceptsPrefix(string text)
    {
        lock (_automaton.Sync)
        {
            return _automaton.Run(Encoding.UTF8.GetBytes(text)) != GrammarAutomaton.Dead;
        }
    }

    /// <summary>Token masks computed so far across all sequences (each costs one trie walk; the rest are cache hits).</summary>
    public long MasksComputed
    {
        get
        {
            lock (_automaton.Sync)
            {
                return _automaton.MasksComputed;
            }
        }
    }
}
