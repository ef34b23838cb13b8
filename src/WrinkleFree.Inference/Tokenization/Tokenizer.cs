using System.Buffers;
using System.Text;
using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tokenization;

/// <summary>
/// A tokenizer built from GGUF <c>tokenizer.*</c> metadata that reproduces llama.cpp's token ids: byte-level BPE
/// (<c>tokenizer.ggml.model = "gpt2"</c>) or SentencePiece (<c>"llama"</c>). Instances are immutable and thread-safe.
/// </summary>
public abstract class Tokenizer
{
    // Token texts llama.cpp treats as end of generation whatever their metadata says (llama-vocab.cpp, by text).
    private static readonly string[] EndOfGenerationTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>",
        "<｜end▁of▁sentence｜>", "<|end_of_text|>", "<end_of_utterance>", "<|return|>", "<|call|>",
    ];

    private readonly string[] _tokens;
    private readonly TokenKind[] _kinds;
    private readonly int[] _specialsAlways;
    private readonly int[] _specialsAll;

    // UTF-8 of each token as decoding renders it, built on first use so streaming decode allocates nothing per token.
    // Concurrent first uses compute the same bytes, so the race is harmless.
    private readonly byte[]?[] _pieces;

    private protected Tokenizer(TokenizerVocabulary vocabulary)
    {
        _tokens = vocabulary.Tokens;
        _kinds = vocabulary.Kinds;
        _pieces = new byte[]?[_tokens.Length];
        TokenToId = vocabulary.TokenToId;
        BosId = vocabulary.BosId;
        EosId = vocabulary.EosId;
        AddBos = vocabulary.AddBos && BosId >= 0;
        AddEos = vocabulary.AddEos && EosId >= 0;
        ChatTemplate = vocabulary.ChatTemplate;

        var eog = new HashSet<int>();
        foreach (var id in (ReadOnlySpan<int>)[EosId, vocabulary.EotId, vocabulary.EomId])
        {
            if (id >= 0)
            {
                eog.Add(id);
            }
        }

        foreach (var text in EndOfGenerationTexts)
        {
            if (TokenToId.TryGetValue(text, out var id))
            {
                eog.Add(id);
                // llama.cpp forces these to control tokens so they are parsed and skipped like the other specials.
                _kinds[id] = TokenKind.Control;
            }
        }

        EndOfGenerationIds = eog;
        FillInTheMiddle = FindFim(vocabulary);

        // llama.cpp matches longest texts first; user-defined tokens are split out even when specials are not parsed.
        var specials = new List<int>();
        for (var id = 0; id < _tokens.Length; id++)
        {
            if (_kinds[id] is TokenKind.Control or TokenKind.UserDefined or TokenKind.Unknown && _tokens[id].Length > 0)
            {
                specials.Add(id);
            }
        }

        _specialsAll = [.. specials.OrderByDescending(id => Encoding.UTF8.GetByteCount(_tokens[id])).ThenBy(id => id)];
        _specialsAlways = Array.FindAll(_specialsAll, id => _kinds[id] == TokenKind.UserDefined);
    }

    /// <summary>
    /// The model's fill-in-the-middle tokens (prefix, suffix, middle), or null when it has none: from the GGUF keys, else
    /// by the spellings code models use (Qwen2.5-Coder / StarCoder, CodeLlama, DeepSeek-Coder).
    /// </summary>
    public FimTokens? FillInTheMiddle { get; }

    /// <summary>Number of tokens in the vocabulary.</summary>
    public int VocabSize => _tokens.Length;

    /// <summary>Beginning-of-sequence token id, or -1 when the model has none.</summary>
    public int BosId { get; }

    /// <summary>End-of-sequence token id, or -1 when the model has none.</summary>
    public int EosId { get; }

    /// <summary>Whether <see cref="Encode"/> prepends <see cref="BosId"/> when asked for special tokens.</summary>
    public bool AddBos { get; }

    /// <summary>Whether <see cref="Encode"/> appends <see cref="EosId"/> when asked for special tokens.</summary>
    public bool AddEos { get; }

    /// <summary>Tokens that end generation: eos, eot, eom and the end-of-turn texts llama.cpp recognises.</summary>
    public IReadOnlySet<int> EndOfGenerationIds { get; }

    /// <summary>The Jinja chat template from <c>tokenizer.chat_template</c>, or null.</summary>
    public string? ChatTemplate { get; }

    private protected Dictionary<string, int> TokenToId { get; }

    private FimTokens? FindFim(TokenizerVocabulary vocabulary)
    {
        if (vocabulary.FimIds is var (pre, suf, mid) && pre >= 0 && suf >= 0 && mid >= 0)
        {
            return new FimTokens(pre, suf, mid);
        }

        foreach (var (prefix, suffix, middle) in FimSpellings)
        {
            if (TokenToId.TryGetValue(prefix, out var p) && TokenToId.TryGetValue(suffix, out var s) && TokenToId.TryGetValue(middle, out var m))
            {
                return new FimTokens(p, s, m);
            }
        }

        return null;
    }

    private static readonly (string Prefix, string Suffix, string Middle)[] FimSpellings =
    [
        ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
        ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
        ("<fim-prefix>", "<fim-suffix>", "<fim-middle>"),
        ("\u2581<PRE>", "\u2581<SUF>", "\u2581<MID>"),
        ("<PRE>", "<SUF>", "<MID>"),
        ("<\uff5cfim\u2581begin\uff5c>", "<\uff5cfim\u2581hole\uff5c>", "<\uff5cfim\u2581end\uff5c>"),
    ];

    /// <summary>Builds the tokenizer named by <c>tokenizer.ggml.model</c>; throws <see cref="GgufFormatException"/> naming the bad key.</summary>
    public static Tokenizer FromGguf(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var model = metadata.GetStringOrNull("tokenizer.ggml.model")
            ?? throw new GgufFormatException("missing metadata key 'tokenizer.ggml.model'");
        return model switch
        {
            "gpt2" => BpeTokenizer.Create(metadata),
            "llama" => SpmTokenizer.Create(metadata),
            _ => throw new GgufFormatException($"metadata key 'tokenizer.ggml.model': '{model}' is not supported (expected 'gpt2' or 'llama')"),
        };
    }

    /// <summary>
    /// Token ids for <paramref name="text"/>. <paramref name="addSpecial"/> adds BOS/EOS as the model asks;
    /// <paramref name="parseSpecial"/> turns control-token texts such as "&lt;|im_start|&gt;" into their ids.
    /// </summary>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 2);
        if (addSpecial && AddBos)
        {
            output.Add(BosId);
        }

        var afterSpecial = true;
        var specials = parseSpecial ? _specialsAll : _specialsAlways;
        foreach (var fragment in Partition(text, specials))
        {
            if (fragment.Token >= 0)
            {
                output.Add(fragment.Token);
                afterSpecial = true;
            }
            else
            {
                EncodeText(text, fragment.Start, fragment.Length, afterSpecial, output);
                afterSpecial = false;
            }
        }

        if (addSpecial && AddEos)
        {
            output.Add(EosId);
        }

        return [.. output];
    }

    /// <summary>
    /// The text of <paramref name="ids"/>. Bytes are joined before UTF-8 decoding, so characters split across tokens come
    /// out whole. <paramref name="skipSpecial"/> drops control and unknown tokens, as llama.cpp does.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false)
    {
        var bytes = new ArrayBufferWriter<byte>(ids.Length * 4 + 16);
        var atTextStart = true;
        foreach (var id in ids)
        {
            AppendPiece(id, skipSpecial, ref atTextStart, bytes);
        }

        return Encoding.UTF8.GetString(bytes.WrittenSpan);
    }

    /// <summary>The raw vocabulary string of <paramref name="id"/> (byte-level or "▁" form, not decoded).</summary>
    public string TokenText(int id) => _tokens[CheckId(id)];

    /// <summary>True for control, user-defined and unknown-type tokens (<c>tokenizer.ggml.token_type</c> 3, 4 and 2).</summary>
    public bool IsSpecial(int id) => _kinds[CheckId(id)] is TokenKind.Control or TokenKind.UserDefined or TokenKind.Unknown;

    /// <summary>A decoder for streamed ids whose pieces always end on whole characters.</summary>
    public IncrementalDecoder CreateDecoder(bool skipSpecial = false) => new(this, skipSpecial);

    /// <summary>Appends the bytes of one token, applying the rules <see cref="Decode"/> and the incremental decoder share.</summary>
    internal void AppendPiece(int id, bool skipSpecial, ref bool atTextStart, IBufferWriter<byte> output)
    {
        var kind = _kinds[CheckId(id)];
        if (kind is TokenKind.Control or TokenKind.Unknown or TokenKind.UserDefined)
        {
            // llama.cpp never hides user-defined tokens: they are text the model's authors added to the vocabulary.
            if (!skipSpecial || kind == TokenKind.UserDefined)
            {
                output.Write(_pieces[id] ??= Encoding.UTF8.GetBytes(_tokens[id]));
            }

            atTextStart = true;
            return;
        }

        if (kind == TokenKind.Unused)
        {
            return;
        }

        var piece = _pieces[id] ??= TextPieceBytes(id, kind);
        // SentencePiece put a space before the first piece and after each special token; take it off again.
        var skip = atTextStart && StripsLeadingSpace && kind != TokenKind.Byte && piece.Length > 0 && piece[0] == (byte)' ' ? 1 : 0;
        output.Write(piece.AsSpan(skip));
        atTextStart = false;
    }

    /// <summary>True when the encoder adds a space at the start of text, which decoding then removes.</summary>
    private protected virtual bool StripsLeadingSpace => false;

    /// <summary>Encodes one run of plain text (no special tokens) and appends the ids.</summary>
    private protected abstract void EncodeText(string text, int start, int length, bool afterSpecial, List<int> output);

    /// <summary>The bytes a normal or byte token decodes to (computed once per token).</summary>
    private protected abstract byte[] TextPieceBytes(int id, TokenKind kind);

    private int CheckId(int id) =>
        (uint)id < (uint)_tokens.Length ? id : throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside the vocabulary (0..{_tokens.Length - 1})");

    // Splits text around special-token texts, longest first, as llama.cpp's tokenizer_st_partition does.
    private List<Fragment> Partition(string text, int[] specials)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0)
        {
            return fragments;
        }

        fragments.Add(new Fragment(-1, 0, text.Length));
        foreach (var id in specials)
        {
            var special = _tokens[id];
            for (var i = 0; i < fragments.Count; i++)
            {
                var f = fragments[i];
                if (f.Token >= 0 || f.Length < special.Length)
                {
                    continue;
                }

                var match = text.IndexOf(special, f.Start, f.Length, StringComparison.Ordinal);
                if (match < 0)
                {
                    continue;
                }

                var replaced = new List<Fragment>(3);
                if (match > f.Start)
                {
                    replaced.Add(new Fragment(-1, f.Start, match - f.Start));
                }

                replaced.Add(new Fragment(id, match, special.Length));
                var rightStart = match + special.Length;
                if (rightStart < f.Start + f.Length)
                {
                    // The right remainder is revisited by the loop, so later occurrences split it too.
                    replaced.Add(new Fragment(-1, rightStart, f.Start + f.Length - rightStart));
                }

                fragments.RemoveAt(i);
                fragments.InsertRange(i, replaced);
                i += replaced.Count - 2;
            }
        }

        return fragments;
    }

    private readonly record struct Fragment(int Token, int Start, int Length);
}
