using System.Globalization;
using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tokenization;

/// <summary>
/// SentencePiece as llama.cpp's <c>llm_tokenizer_spm</c>: spaces become U+2581, an optional space prefix, then adjacent
/// pieces merge highest vocabulary score first (leftmost on ties); pieces with no token fall back to &lt;0xXX&gt; bytes.
/// </summary>
internal sealed class SpmTokenizer : Tokenizer
{
    private const char SpaceMarker = '\u2581';

    private readonly float[] _scores;
    private readonly int[] _byteTokens;
    private readonly int _unknownId;
    private readonly bool _addSpacePrefix;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _tokenLookup;

    private SpmTokenizer(TokenizerVocabulary vocabulary, float[] scores, bool addSpacePrefix)
        : base(vocabulary)
    {
        _scores = scores;
        _addSpacePrefix = addSpacePrefix;
        _unknownId = vocabulary.UnknownId;
        _tokenLookup = TokenToId.GetAlternateLookup<ReadOnlySpan<char>>();
        _byteTokens = new int[256];
        for (var b = 0; b < 256; b++)
        {
            // llama.cpp looks for "<0xXX>" first and falls back to the byte itself as a one-character token.
            _byteTokens[b] = TokenToId.TryGetValue($"<0x{b:X2}>", out var id) ? id
                : b < 0x80 && TokenToId.TryGetValue(((char)b).ToString(), out id) ? id
                : -1;
        }
    }

    public static SpmTokenizer Create(GgufMetadata metadata)
    {
        // llama.cpp's SentencePiece defaults: <unk>=0, <s>=1, </s>=2, add BOS, add a space prefix.
        var vocabulary = TokenizerVocabulary.Read(metadata, defaultBos: 1, defaultEos: 2, defaultUnknown: 0, defaultAddBos: true);
        var scores = metadata.GetArray<float>("tokenizer.ggml.scores") ?? new float[vocabulary.Tokens.Length];
        if (scores.Length != vocabulary.Tokens.Length)
        {
            throw new GgufFormatException($"metadata key 'tokenizer.ggml.scores' has {scores.Length} entries for {vocabulary.Tokens.Length} tokens");
        }

        return new SpmTokenizer(vocabulary, scores, metadata.GetBool("tokenizer.ggml.add_space_prefix", true));
    }

    private protected override void EncodeText(string text, int start, int length, bool afterSpecial, List<int> output)
    {
        var prefix = _addSpacePrefix && afterSpecial ? 1 : 0;
        var escaped = new char[length + prefix];
        if (prefix == 1)
        {
            escaped[0] = SpaceMarker;
        }

        for (var i = 0; i < length; i++)
        {
            var c = text[start + i];
            escaped[prefix + i] = c == ' ' ? SpaceMarker : c;
        }

        Tokenize(escaped, output);
    }

    private protected override bool StripsLeadingSpace => _addSpacePrefix;

    private protected override byte[] TextPieceBytes(int id, TokenKind kind)
    {
        var text = TokenText(id);
        if (kind == TokenKind.Byte && text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal)
            && byte.TryParse(text.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value))
        {
            return [value];
        }

        return System.Text.Encoding.UTF8.GetBytes(kind == TokenKind.Byte ? text : text.Replace(SpaceMarker, ' '));
    }

    private void Tokenize(char[] text, List<int> output)
    {
        // One symbol per code point (surrogate pairs stay together), linked as in llama.cpp.
        var n = 0;
        var symStart = new int[text.Length];
        var symLength = new int[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            symStart[n] = i;
            symLength[n] = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            i += symLength[n] - 1;
            n++;
        }

        if (n == 0)
        {
            return;
        }

        var prev = new int[n];
        var next = new int[n];
        for (var i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        var queue = new PriorityQueue<(int Left, int Right, int Size), (float Score, int Left)>(BigramOrder.Instance);
        for (var i = 1; i < n; i++)
        {
            TryAddBigram(i - 1, i);
        }

        while (queue.TryDequeue(out var bigram, out _))
        {
            var leftLength = symLength[bigram.Left];
            var rightLength = symLength[bigram.Right];
            if (leftLength == 0 || rightLength == 0 || leftLength + rightLength != bigram.Size)
            {
                continue;
            }

            symLength[bigram.Left] = leftLength + rightLength;
            symLength[bigram.Right] = 0;
            next[bigram.Left] = next[bigram.Right];
            if (next[bigram.Right] >= 0)
            {
                prev[next[bigram.Right]] = bigram.Left;
            }

            TryAddBigram(prev[bigram.Left], bigram.Left);
            TryAddBigram(bigram.Left, next[bigram.Left]);
        }

        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i != -1; i = next[i])
        {
            var symbol = text.AsSpan(symStart[i], symLength[i]);
            if (_tokenLookup.TryGetValue(symbol, out var id))
            {
                output.Add(id);
                continue;
            }

            // Merged symbols are always tokens, so only single characters get here: emit their UTF-8 bytes.
            var count = System.Text.Encoding.UTF8.GetBytes(symbol, utf8);
            for (var j = 0; j < count; j++)
            {
                var byteId = _byteTokens[utf8[j]];
                output.Add(byteId >= 0 ? byteId : _unknownId >= 0 ? _unknownId
                    : throw new InvalidOperationException($"vocabulary has neither a byte token <0x{utf8[j]:X2}> nor an unknown token"));
            }
        }

        void TryAddBigram(int left, int right)
        {
            if (left < 0 || right < 0)
            {
                return;
            }

            var size = symLength[left] + symLength[right];
            // Adjacent live symbols are contiguous in the text, so the pair is one slice.
            if (_tokenLookup.TryGetValue(text.AsSpan(symStart[left], size), out var id))
            {
                queue.Enqueue((left, right, size), (_scores[id], left));
            }
        }
    }

    /// <summary>Highest score first; on equal scores the leftmost pair, as llama.cpp's <c>llm_bigram_spm::comparator</c>.</summary>
    private sealed class BigramOrder : IComparer<(float Score, int Left)>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare((float Score, int Left) x, (float Score, int Left) y)
        {
            var byScore = y.Score.CompareTo(x.Score);
            return byScore != 0 ? byScore : x.Left.CompareTo(y.Left);
        }
    }
}
