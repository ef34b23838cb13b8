namespace WrinkleFree.Inference.Sampling.Constraints;

internal sealed partial class GrammarAutomaton
{
    /// <summary>Bound on cached masks per vocabulary; past it the cache starts over (a grammar with very many states).</summary>
    private const int MaxCachedMasks = 1024;

    private readonly Dictionary<TokenTrie, Dictionary<int, ulong[]>> _masks = [];
    private int[] _walkStates = [];

    /// <summary>Masks computed so far (benchmarks report it).</summary>
    public long MasksComputed { get; private set; }

    /// <summary>
    /// The tokens allowed in <paramref name="state"/> as a bit set over the vocabulary (bit set = allowed), computed once
    /// per state by walking the vocabulary trie and pruning every subtree whose prefix the grammar rejects.
    /// End-of-generation tokens are allowed exactly when the state is accepting.
    /// </summary>
    public ulong[] Mask(int state, TokenTrie trie)
    {
        if (!_masks.TryGetValue(trie, out var cache))
        {
            cache = [];
            _masks[trie] = cache;
        }

        if (cache.TryGetValue(state, out var mask))
        {
            return mask;
        }

        if (cache.Count >= MaxCachedMasks)
        {
            cache.Clear();
        }

        mask = ComputeMask(state, trie);
        cache[state] = mask;
        MasksComputed++;
        return mask;
    }

    private ulong[] ComputeMask(int state, TokenTrie trie)
    {
        var mask = new ulong[(trie.VocabSize + 63) / 64];
        if (_walkStates.Length < trie.MaxDepth + 1)
        {
            _walkStates = new int[trie.MaxDepth + 1];
        }

        var states = _walkStates;
        states[0] = state;
        var label = trie.Label;
        var depth = trie.Depth;
        var end = trie.SubtreeEnd;
        var starts = trie.TokenStart;
        var ids = trie.TokenIds;
        var n = 1;
        while (n < label.Length)
        {
            var d = depth[n];
            var next = Next(states[d - 1], label[n]);
            if (next == Dead)
            {
                n = end[n];
                continue;
            }

            states[d] = next;
            for (var i = starts[n]; i < starts[n + 1]; i++)
            {
                mask[ids[i] >> 6] |= 1UL << ids[i];
            }

            n++;
        }

        if (IsAccepting(state))
        {
            foreach (var id in trie.EndOfGenerationIds)
            {
                mask[id >> 6] |= 1UL << id;
            }
        }

        return mask;
    }
}
