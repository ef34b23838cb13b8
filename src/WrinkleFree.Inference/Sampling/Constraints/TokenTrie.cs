using System.Buffers;
using System.Runtime.CompilerServices;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>
/// The vocabulary's token byte strings as a prefix trie laid out in pre-order, built once per tokenizer and cached:
/// a node's subtree is the contiguous run up to <see cref="SubtreeEnd"/>, so a mask walk that finds a prefix impossible
/// skips every token under it with one jump. Special (control) tokens are left out; end-of-generation is the constraint's
/// own decision.
/// </summary>
internal sealed class TokenTrie
{
    private static readonly ConditionalWeakTable<Tokenizer, TokenTrie> Cache = [];
    private static readonly ConditionalWeakTable<Tokenizer, TokenTrie> StartCache = [];

    private readonly byte[] _pieceBytes;
    private readonly int[] _pieceStart;

    private TokenTrie(Tokenizer tokenizer, bool atStart)
    {
        VocabSize = tokenizer.VocabSize;
        EndOfGenerationIds = [.. tokenizer.EndOfGenerationIds.Order()];

        // Token bytes as generation renders them: the decoder strips SentencePiece's leading space from the first token only.
        var all = new ArrayBufferWriter<byte>(VocabSize * 8);
        _pieceStart = new int[VocabSize + 1];
        var pieces = new List<(int Start, int Length, int Id)>(VocabSize);
        for (var id = 0; id < VocabSize; id++)
        {
            _pieceStart[id] = all.WrittenCount;
            if (tokenizer.IsSpecial(id))
            {
                continue;
            }

            var atTextStart = atStart;
            tokenizer.AppendPiece(id, skipSpecial: true, ref atTextStart, all);
            var length = all.WrittenCount - _pieceStart[id];
            if (length > 0)
            {
                pieces.Add((_pieceStart[id], length, id));
            }
        }

        _pieceStart[VocabSize] = all.WrittenCount;
        _pieceBytes = all.WrittenSpan.ToArray();
        var bytes = _pieceBytes;
        pieces.Sort((a, b) =>
        {
            var c = bytes.AsSpan(a.Start, a.Length).SequenceCompareTo(bytes.AsSpan(b.Start, b.Length));
            return c != 0 ? c : a.Id.CompareTo(b.Id);
        });

        Build(pieces);
    }

    public int VocabSize { get; }

    public int[] EndOfGenerationIds { get; }

    /// <summary>Node count; node 0 is the root (the empty prefix).</summary>
    public int NodeCount => Label.Length;

    public byte[] Label { get; private set; } = [];

    public int[] Depth { get; private set; } = [];

    /// <summary>One past the last node of each node's subtree.</summary>
    public int[] SubtreeEnd { get; private set; } = [];

    /// <summary>Token ids whose bytes end at a node: TokenIds[TokenStart[n]..TokenStart[n+1]].</summary>
    public int[] TokenStart { get; private set; } = [];

    public int[] TokenIds { get; private set; } = [];

    public int MaxDepth { get; private set; }

    public static TokenTrie For(Tokenizer tokenizer) => Cache.GetValue(tokenizer, t => new TokenTrie(t, atStart: false));

    /// <summary>
    /// The trie for a sequence's first generated token, whose bytes differ where the tokenizer strips a leading space at
    /// the start of text (SentencePiece); the mid-text trie itself when no token differs.
    /// </summary>
    public static TokenTrie ForStart(Tokenizer tokenizer) => StartCache.GetValue(tokenizer, t =>
    {
        var mid = For(t);
        var start = new TokenTrie(t, atStart: true);
        return start._pieceBytes.AsSpan().SequenceEqual(mid._pieceBytes) ? mid : start;
    });

    /// <summary>The bytes token <paramref name="id"/> adds to the text (empty for special tokens).</summary>
    public ReadOnlySpan<byte> Piece(int id) => _pieceBytes.AsSpan(_pieceStart[id], _pieceStart[id + 1] - _pieceStart[id]);

    private void Build(List<(int Start, int Length, int Id)> pieces)
    {
        var label = new List<byte> { 0 };
        var depth = new List<int> { 0 };
        var tokenStart = new List<int> { 0 };
        var tokenIds = new List<int>(pieces.Count);
        var previous = ReadOnlySpan<byte>.Empty;
        foreach (var (start, length, id) in pieces)
        {
            var piece = _pieceBytes.AsSpan(start, length);
            var common = piece.CommonPrefixLength(previous);
            if (common == piece.Length && common == previous.Length)
            {
                // Same bytes as the token before (duplicates decode alike): it ends at the same node.
                tokenIds.Add(id);
                continue;
            }

            // Sorted input: the new token shares `common` bytes with the path of the previous one; add the rest as new nodes.
            for (var i = common; i < length; i++)
            {
                label.Add(piece[i]);
                depth.Add(i + 1);
                tokenStart.Add(tokenIds.Count);
            }

            tokenIds.Add(id);
            previous = piece;
        }

        tokenStart.Add(tokenIds.Count);
        Label = [.. label];
        Depth = [.. depth];
        TokenIds = [.. tokenIds];
        TokenStart = [.. tokenStart];
        MaxDepth = Depth.Length == 0 ? 0 : Depth.Max();

        // A node's subtree ends at the next node no deeper than it.
        var end = new int[Label.Length];
        var open = new Stack<int>();
        for (var n = 0; n < Label.Length; n++)
        {
            while (open.Count > 0 && Depth[open.Peek()] >= Depth[n])
            {
                end[open.Pop()] = n;
            }

            open.Push(n);
        }

        while (open.Count > 0)
        {
            end[open.Pop()] = Label.Length;
        }

        SubtreeEnd = end;
    }
}
