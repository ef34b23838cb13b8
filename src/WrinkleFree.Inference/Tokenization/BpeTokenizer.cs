using System.Collections.Concurrent;
using System.Text;
using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tokenization;

/// <summary>
/// Byte-level BPE as llama.cpp's <c>llm_tokenizer_bpe</c>: regex pre-tokenization, GPT-2 byte-to-character mapping, then
/// merges applied lowest rank first (leftmost on ties) with a priority queue.
/// </summary>
internal sealed class BpeTokenizer : Tokenizer
{
    private const int MaxCachedWordLength = 64;
    private const int MaxCacheEntries = 1 << 16;

    private readonly PreTokenizer _preTokenizer;
    private readonly Dictionary<string, int> _mergeRanks;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _rankLookup;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _tokenLookup;
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    private BpeTokenizer(TokenizerVocabulary vocabulary, PreTokenizer preTokenizer, Dictionary<string, int> mergeRanks, bool ignoreMerges)
        : base(vocabulary)
    {
        _preTokenizer = preTokenizer;
        _mergeRanks = mergeRanks;
        _rankLookup = _mergeRanks.GetAlternateLookup<ReadOnlySpan<char>>();
        _tokenLookup = TokenToId.GetAlternateLookup<ReadOnlySpan<char>>();
        _ignoreMerges = ignoreMerges;
    }

    /// <summary>The canonical pre-tokenizer name in use.</summary>
    public string PreTokenizerName => _preTokenizer.Name;

    public static BpeTokenizer Create(GgufMetadata metadata)
    {
        var preName = metadata.GetStringOrNull("tokenizer.ggml.pre");
        var pre = PreTokenizer.ForName(preName)
            ?? throw new GgufFormatException($"metadata key 'tokenizer.ggml.pre': pre-tokenizer '{preName}' is not supported (known: default, gpt-2, llama-bpe/llama3, qwen2, falcon)");
        var isLlama3 = pre.Name == "llama3";
        // llama.cpp: BPE vocabularies add no BOS unless the metadata says so, except the Llama 3 family.
        var vocabulary = TokenizerVocabulary.Read(metadata, defaultBos: -1, defaultEos: -1, defaultUnknown: -1, defaultAddBos: isLlama3);
        var merges = metadata.GetArray<string>("tokenizer.ggml.merges")
            ?? throw new GgufFormatException("missing metadata key 'tokenizer.ggml.merges'");
        var ranks = new Dictionary<string, int>(merges.Length, StringComparer.Ordinal);
        for (var rank = 0; rank < merges.Length; rank++)
        {
            var merge = merges[rank];
            // Split at the first space after the first character, as llama.cpp does; the key is "left right".
            if (merge.Length < 3 || merge.IndexOf(' ', 1) is var space && (space < 0 || space == merge.Length - 1))
            {
                throw new GgufFormatException($"metadata key 'tokenizer.ggml.merges'[{rank}]: '{merge}' is not two tokens separated by a space");
            }

            ranks.TryAdd(merge, rank);
        }

        return new BpeTokenizer(vocabulary, pre, ranks, ignoreMerges: isLlama3);
    }

    private protected override void EncodeText(string text, int start, int length, bool afterSpecial, List<int> output)
    {
        var piece = start == 0 && length == text.Length ? text : text.Substring(start, length);
        var words = new List<Range>();
        _preTokenizer.Split(piece, words);
        foreach (var range in words)
        {
            var (offset, count) = range.GetOffsetAndLength(piece.Length);
            var word = piece.AsSpan(offset, count);
            if (count <= MaxCachedWordLength)
            {
                var lookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
                if (!lookup.TryGetValue(word, out var ids))
                {
                    ids = EncodeWord(word);
                    if (_cache.Count >= MaxCacheEntries)
                    {
                        // A crude bound: dropping everything keeps memory flat and the hit rate recovers within a prompt.
                        _cache.Clear();
                    }

                    lookup.TryAdd(word, ids);
                }

                output.AddRange(ids);
            }
            else
            {
                output.AddRange(EncodeWord(word));
            }
        }
    }

    private protected override byte[] TextPieceBytes(int id, TokenKind kind)
    {
        var text = TokenText(id);
        var bytes = new List<byte>(text.Length);
        foreach (var c in text)
        {
            var b = ByteLevel.ToByte(c);
            if (b >= 0)
            {
                bytes.Add((byte)b);
            }
            else
            {
                // Not a byte-level character (a hand-made vocabulary): keep its own UTF-8 rather than lose it.
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }

        return [.. bytes];
    }

    private int[] EncodeWord(ReadOnlySpan<char> word)
    {
        var byteCount = Encoding.UTF8.GetByteCount(word);
        var bytes = byteCount <= 256 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(word, bytes);
        var mapped = ByteLevel.Encode(bytes);

        if (_ignoreMerges && TokenToId.TryGetValue(mapped, out var whole))
        {
            return [whole];
        }

        // Symbols are runs of the mapped string (one char per byte) in a linked list, as in llama.cpp.
        var n = mapped.Length;
        var symStart = new int[n];
        var symLength = new int[n];
        var prev = new int[n];
        var next = new int[n];
        for (var i = 0; i < n; i++)
        {
            symStart[i] = i;
            symLength[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        var queue = new PriorityQueue<(int Left, int Right, int Size), long>();
        for (var i = 1; i < n; i++)
        {
            TryAddBigram(i - 1, i);
        }

        while (queue.TryDequeue(out var bigram, out _))
        {
            ref var leftLength = ref symLength[bigram.Left];
            var rightLength = symLength[bigram.Right];
            // Stale entry: one side was merged away or grew since the pair was queued.
            if (leftLength == 0 || rightLength == 0 || leftLength + rightLength != bigram.Size)
            {
                continue;
            }

            leftLength += rightLength;
            symLength[bigram.Right] = 0;
            next[bigram.Left] = next[bigram.Right];
            if (next[bigram.Right] >= 0)
            {
                prev[next[bigram.Right]] = bigram.Left;
            }

            TryAddBigram(prev[bigram.Left], bigram.Left);
            TryAddBigram(bigram.Left, next[bigram.Left]);
        }

        var ids = new List<int>(n);
        for (var i = 0; i != -1; i = next[i])
        {
            var symbol = mapped.AsSpan(symStart[i], symLength[i]);
            if (_tokenLookup.TryGetValue(symbol, out var id))
            {
                ids.Add(id);
                continue;
            }

            // No token for the run: fall back to its single bytes (llama.cpp drops bytes it cannot find either).
            foreach (var c in symbol)
            {
                if (_tokenLookup.TryGetValue([c], out var byteId))
                {
                    ids.Add(byteId);
                }
            }
        }

        return [.. ids];

        void TryAddBigram(int left, int right)
        {
            if (left < 0 || right < 0)
            {
                return;
            }

            var leftText = mapped.AsSpan(symStart[left], symLength[left]);
            var rightText = mapped.AsSpan(symStart[right], symLength[right]);
            var size = leftText.Length + rightText.Length;
            var buffer = size + 1 <= 256 ? stackalloc char[size + 1] : new char[size + 1];
            leftText.CopyTo(buffer);
            buffer[leftText.Length] = ' ';
            rightText.CopyTo(buffer[(leftText.Length + 1)..]);
            if (_rankLookup.TryGetValue(buffer, out var rank))
            {
                // Lowest rank first, then leftmost: one ordered key.
                queue.Enqueue((left, right, size), ((long)rank << 32) | (uint)left);
            }
        }
    }
}
