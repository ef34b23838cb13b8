using System.Numerics;

namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>
/// One sequence's position in a shared <see cref="GrammarAutomaton"/>: masking is a cached bit-set lookup for the current
/// state plus one pass over the logits; accepting a token feeds its bytes through the automaton.
/// </summary>
internal sealed class GrammarConstraint(GrammarAutomaton automaton, TokenTrie startTrie, TokenTrie trie) : ITokenConstraint
{
    private int _state = automaton.Start;
    private bool _ended;
    private bool _first = true;

    public bool IsComplete
    {
        get
        {
            lock (automaton.Sync)
            {
                return _ended || (_state != GrammarAutomaton.Dead && automaton.IsAccepting(_state));
            }
        }
    }

    public void Apply(Span<float> logits)
    {
        if (logits.Length != trie.VocabSize)
        {
            throw new ArgumentException($"logits has {logits.Length} entries but the vocabulary has {trie.VocabSize}", nameof(logits));
        }

        if (_state == GrammarAutomaton.Dead || _ended)
        {
            throw new InvalidOperationException("the grammar allows no further token: the text generated so far left it");
        }

        ulong[] mask;
        lock (automaton.Sync)
        {
            mask = automaton.Mask(_state, _first ? startTrie : trie);
        }

        var any = false;
        Span<float> keep = stackalloc float[64];
        for (var w = 0; w < mask.Length; w++)
        {
            var bits = mask[w];
            var start = w << 6;
            var count = Math.Min(64, logits.Length - start);
            var valid = count == 64 ? ulong.MaxValue : (1UL << count) - 1;
            if (bits == valid)
            {
                any = true;
                continue;
            }

            var word = logits.Slice(start, count);
            if (bits == 0)
            {
                word.Fill(float.NegativeInfinity);
                continue;
            }

            any = true;

            // Work proportional to the smaller side: set the forbidden few, or keep the allowed few and fill the rest.
            if (BitOperations.PopCount(bits) > 32)
            {
                for (var forbidden = ~bits & valid; forbidden != 0; forbidden &= forbidden - 1)
                {
                    word[BitOperations.TrailingZeroCount(forbidden)] = float.NegativeInfinity;
                }
            }
            else
            {
                for (var allowed = bits; allowed != 0; allowed &= allowed - 1)
                {
                    var i = BitOperations.TrailingZeroCount(allowed);
                    keep[i] = word[i];
                }

                word.Fill(float.NegativeInfinity);
                for (var allowed = bits; allowed != 0; allowed &= allowed - 1)
                {
                    var i = BitOperations.TrailingZeroCount(allowed);
                    word[i] = keep[i];
                }
            }
        }

        if (!any)
        {
            throw new InvalidOperationException("the grammar allows no token of this vocabulary at this point (it needs characters no token spells)");
        }
    }

    public void Accept(int tokenId)
    {
        if (Array.IndexOf(trie.EndOfGenerationIds, tokenId) >= 0)
        {
            _ended = true;
            return;
        }

        var piece = (_first ? startTrie : trie).Piece(tokenId);
        _first = false;
        lock (automaton.Sync)
        {
            foreach (var b in piece)
            {
                if (_state == GrammarAutomaton.Dead)
                {
                    break;
                }

                _state = automaton.Next(_state, b);
            }
        }
    }
}
