using System.Text.Json;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tokenization;
using WrinkleFree.Training.Export;
using WrinkleFree.Training.Model;

namespace WrinkleFree.Training.Data;

/// <summary>
/// A byte-level BPE vocabulary that travels with every checkpoint (tokenizer.json, Export's <see cref="TokenizerData"/> format) and is embedded
/// into exported GGUF files; encoding goes through Inference's <see cref="Tokenizer"/>, so training and serving split text
/// into exactly the same ids.
/// </summary>
public sealed class TrainingTokenizer
{
    /// <summary>The file name inside a checkpoint directory.</summary>
    public const string FileName = "tokenizer.json";

    private TrainingTokenizer(string[] tokens, string[] merges, int[] tokenTypes, string pre, int bosId, int eosId, int eotId, bool addBos)
    {
        Tokens = tokens;
        Merges = merges;
        TokenTypes = tokenTypes;
        Pre = pre;
        BosId = bosId;
        EosId = eosId;
        EotId = eotId;
        AddBos = addBos;
        Inner = Tokenizer.FromGguf(new GgufMetadata(Metadata()));
    }

    /// <summary>Token texts in GPT-2 byte-to-unicode form, indexed by id.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Merges "left right" in rank order.</summary>
    public IReadOnlyList<string> Merges { get; }

    /// <summary>llama.cpp token types (1 normal, 3 control).</summary>
    public IReadOnlyList<int> TokenTypes { get; }

    /// <summary>The llama.cpp pre-tokenizer name (<c>tokenizer.ggml.pre</c>).</summary>
    public string Pre { get; }

    /// <summary>Beginning-of-text id.</summary>
    public int BosId { get; }

    /// <summary>End-of-text id: the document separator of packed training sequences.</summary>
    public int EosId { get; }

    /// <summary>End-of-turn id, or -1.</summary>
    public int EotId { get; }

    /// <summary>Whether the engine prepends <see cref="BosId"/> to prompts.</summary>
    public bool AddBos { get; }

    /// <summary>Number of tokens.</summary>
    public int VocabSize => Tokens.Count;

    /// <summary>The engine's tokenizer over this vocabulary.</summary>
    public Tokenizer Inner { get; }

    /// <summary>
    /// Trains a vocabulary of exactly <paramref name="vocabSize"/> tokens on <paramref name="documents"/>: byte tokens,
    /// merges, then Inference's default special tokens (bos "&lt;|begin_of_text|&gt;", eos "&lt;|end_of_text|&gt;", ...).
    /// </summary>
    public static TrainingTokenizer Train(IEnumerable<string> documents, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var specials = BpeVocabularyBuilder.DefaultSpecialTokens;
        if (vocabSize < 256 + specials.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, $"a byte-level vocabulary needs at least {256 + specials.Count} tokens");
        }

        var (trained, merges) = BpeTrainer.Train(documents, vocabSize - specials.Count);
        var tokens = new List<string>(trained);
        for (var i = 0; tokens.Count < vocabSize - specials.Count; i++)
        {
            tokens.Add($"<|reserved_{i}|>");
        }

        tokens.AddRange(specials);
        var types = tokens.Select((t, i) => i >= trained.Length ? 3 : 1).ToArray();
        var ids = tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
        return new TrainingTokenizer(tokens.ToArray(), merges, types, "gpt-2", ids["<|begin_of_text|>"], ids["<|end_of_text|>"], ids["<|eot_id|>"], addBos: true);
    }

    /// <summary>Wraps an existing vocabulary (for example Inference's default small one in tests).</summary>
    public static TrainingTokenizer FromVocabulary(string[] tokens, string[] merges, int[] tokenTypes, string pre, int bosId, int eosId, int eotId = -1, bool addBos = true) =>
        new(tokens, merges, tokenTypes, pre, bosId, eosId, eotId, addBos);

    /// <summary>
    /// Reads tokenizer.json (Export's <see cref="TokenizerData"/> format, or a Hugging Face byte-level BPE one together with
    /// the directory's config.json) from a checkpoint directory.
    /// </summary>
    public static TrainingTokenizer Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new DataSourceException($"'{directory}' has no {FileName}: a checkpoint written by 'wf train' carries its tokenizer there");
        }

        try
        {
            var configPath = Path.Combine(directory, "config.json");
            // The config only matters for Hugging Face files (special ids, pre-tokenizer); ours carry both themselves.
            var config = File.Exists(configPath)
                ? ModelConfig.Load(configPath)
                : new ModelConfig { VocabSize = 1, HiddenSize = 1, IntermediateSize = 1, NumHiddenLayers = 1, NumAttentionHeads = 1 };
            return FromData(TokenizerData.Load(directory, config));
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException or FormatException or GgufFormatException or ArgumentException)
        {
            throw new DataSourceException($"{path} is not a usable tokenizer: {e.Message}", e);
        }
    }

    /// <summary>Wraps Export's tokenizer data.</summary>
    public static TrainingTokenizer FromData(TokenizerData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new TrainingTokenizer(data.Tokens, data.Merges, data.TokenTypes, data.Pre, data.BosId, data.EosId, data.EotId, data.AddBos);
    }

    /// <summary>Export's form of this vocabulary (with Inference's default chat template).</summary>
    public TokenizerData ToData() => new()
    {
        Tokens = [.. Tokens],
        Merges = [.. Merges],
        TokenTypes = [.. TokenTypes],
        Pre = Pre,
        BosId = BosId,
        EosId = EosId,
        EotId = EotId,
        AddBos = AddBos,
        ChatTemplate = TokenizerMetadata.DefaultChatTemplate,
    };

    /// <summary>Writes <see cref="FileName"/> into <paramref name="directory"/> (Export's Hugging Face style format).</summary>
    public void Save(string directory) => ToData().Save(directory);

    /// <summary>Token ids of plain text (no bos/eos, special-token texts not parsed).</summary>
    public int[] Encode(string text) => Inner.Encode(text, addSpecial: false, parseSpecial: false);

    /// <summary>Text of token ids.</summary>
    public string Decode(ReadOnlySpan<int> ids) => Inner.Decode(ids);

    /// <summary>Writes the <c>tokenizer.*</c> GGUF keys, with Inference's default chat template.</summary>
    public void WriteGguf(GgufWriter writer) => ToData().WriteTo(writer);

    private IEnumerable<KeyValuePair<string, GgufValue>> Metadata()
    {
        yield return new("tokenizer.ggml.model", GgufValue.Of("gpt2"));
        yield return new("tokenizer.ggml.pre", GgufValue.Of(Pre));
        yield return new("tokenizer.ggml.tokens", GgufValue.Of([.. Tokens]));
        yield return new("tokenizer.ggml.token_type", GgufValue.Of([.. TokenTypes]));
        yield return new("tokenizer.ggml.merges", GgufValue.Of([.. Merges]));
        yield return new("tokenizer.ggml.bos_token_id", GgufValue.Of((uint)BosId));
        yield return new("tokenizer.ggml.eos_token_id", GgufValue.Of((uint)EosId));
        if (EotId >= 0)
        {
            yield return new("tokenizer.ggml.eot_token_id", GgufValue.Of((uint)EotId));
        }

        yield return new("tokenizer.ggml.add_bos_token", GgufValue.Of(AddBos));
    }
}
