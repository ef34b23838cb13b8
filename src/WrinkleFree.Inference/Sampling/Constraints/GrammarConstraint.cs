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
        for (var w = 0; w < mask.Length; w++)
        {
            var bits = mask[w];
            var start = w << 6;
            var count = Math.Min(64, logits.Length - start);
            if (bits == ulong.MaxValue)
            {
                any = true;
                continue;
            }

            if (bits == 0)
            {
                logits.Slice(start, count).Fill(float.NegativeInfinity);
                continue;
            }

            any = true;
            for (var i = 0; i < count; i++)
            {
                if ((bits & (1UL << i)) == 0)
                {
                    logits[start + i] = float.NegativeInfinity;
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
