using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tokenization;

/// <summary>The model-independent part of the <c>tokenizer.ggml.*</c> metadata, validated once when a tokenizer is built.</summary>
internal sealed class TokenizerVocabulary
{
    public required string[] Tokens { get; init; }

    public required TokenKind[] Kinds { get; init; }

    /// <summary>Text to id; when a text repeats the last id wins, as in llama.cpp's <c>token_to_id</c>.</summary>
    public required Dictionary<string, int> TokenToId { get; init; }

    public int BosId { get; init; } = -1;

    public int EosId { get; init; } = -1;

    public int EotId { get; init; } = -1;

    public int EomId { get; init; } = -1;

    public int UnknownId { get; init; } = -1;

    /// <summary>Fill-in-the-middle prefix, suffix and middle token ids from the metadata (-1 each when absent).</summary>
    public (int Prefix, int Suffix, int Middle) FimIds { get; init; } = (-1, -1, -1);

    public bool AddBos { get; init; }

    public bool AddEos { get; init; }

    public string? ChatTemplate { get; init; }

    /// <summary>Reads the shared keys; the defaults are the per-model ones llama.cpp applies when a key is absent.</summary>
    public static TokenizerVocabulary Read(GgufMetadata metadata, int defaultBos, int defaultEos, int defaultUnknown, bool defaultAddBos)
    {
        var tokens = metadata.GetArray<string>("tokenizer.ggml.tokens")
            ?? throw new GgufFormatException("missing metadata key 'tokenizer.ggml.tokens'");
        if (tokens.Length == 0)
        {
            throw new GgufFormatException("metadata key 'tokenizer.ggml.tokens' is empty");
        }

        var kinds = new TokenKind[tokens.Length];
        var types = metadata.GetArray<int>("tokenizer.ggml.token_type");
        if (types is not null && types.Length != tokens.Length)
        {
            throw new GgufFormatException($"metadata key 'tokenizer.ggml.token_type' has {types.Length} entries for {tokens.Length} tokens");
        }

        for (var i = 0; i < kinds.Length; i++)
        {
            var type = types?[i] ?? (int)TokenKind.Normal;
            kinds[i] = type is >= 0 and <= (int)TokenKind.Byte ? (TokenKind)type : TokenKind.Undefined;
        }

        var tokenToId = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (var i = 0; i < tokens.Length; i++)
        {
            tokenToId[tokens[i]] = i;
        }

        return new TokenizerVocabulary
        {
            Tokens = tokens,
            Kinds = kinds,
            TokenToId = tokenToId,
            BosId = ReadId(metadata, "tokenizer.ggml.bos_token_id", defaultBos, tokens.Length),
            EosId = ReadId(metadata, "tokenizer.ggml.eos_token_id", defaultEos, tokens.Length),
            EotId = ReadId(metadata, "tokenizer.ggml.eot_token_id", -1, tokens.Length),
            EomId = ReadId(metadata, "tokenizer.ggml.eom_token_id", -1, tokens.Length),
            UnknownId = ReadId(metadata, "tokenizer.ggml.unknown_token_id", defaultUnknown, tokens.Length),
            // llama.cpp's current keys, then the older prefix/suffix/middle ones CodeLlama conversions carry.
            FimIds = (
                ReadId(metadata, "tokenizer.ggml.fim_pre_token_id", ReadId(metadata, "tokenizer.ggml.prefix_token_id", -1, tokens.Length), tokens.Length),
                ReadId(metadata, "tokenizer.ggml.fim_suf_token_id", ReadId(metadata, "tokenizer.ggml.suffix_token_id", -1, tokens.Length), tokens.Length),
                ReadId(metadata, "tokenizer.ggml.fim_mid_token_id", ReadId(metadata, "tokenizer.ggml.middle_token_id", -1, tokens.Length), tokens.Length)),
            AddBos = metadata.GetBool("tokenizer.ggml.add_bos_token", defaultAddBos),
            AddEos = metadata.GetBool("tokenizer.ggml.add_eos_token", false),
            ChatTemplate = metadata.GetStringOrNull("tokenizer.chat_template"),
        };
    }

    private static int ReadId(GgufMetadata metadata, string key, int fallback, int vocabSize)
    {
        var id = metadata.GetInteger(key, fallback < vocabSize ? fallback : -1);
        // Writers use -1 (or u32 max) for "none"; anything else must name a real token.
        if (id is -1 or uint.MaxValue)
        {
            return -1;
        }

        return id >= 0 && id < vocabSize
            ? (int)id
            : throw new GgufFormatException($"metadata key '{key}': token id {id} is outside the vocabulary (0..{vocabSize - 1})");
    }
}
