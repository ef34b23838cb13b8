using System.Text.Json;
using System.Text.Json.Nodes;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tokenization;
using WrinkleFree.Platform.Files;

namespace WrinkleFree.Training.Export;

/// <summary>
/// A byte-level BPE vocabulary in the form the engine's GGUF loader reads (<c>tokenizer.ggml.*</c>): token strings, merges,
/// llama.cpp token types (1 normal, 3 control, 4 user-defined), pre-tokenizer name and special ids. Stored in a checkpoint
/// directory as a Hugging Face style <c>tokenizer.json</c> with a <c>wrinklefree</c> section for what HF keeps elsewhere.
/// </summary>
public sealed record TokenizerData
{
    public const string FileName = "tokenizer.json";

    public required string[] Tokens { get; init; }

    public required string[] Merges { get; init; }

    public required int[] TokenTypes { get; init; }

    /// <summary>llama.cpp pre-tokenizer name ("gpt-2", "qwen2", "llama-bpe", ...).</summary>
    public required string Pre { get; init; }

    public required int BosId { get; init; }

    public required int EosId { get; init; }

    public int EotId { get; init; } = -1;

    public bool AddBos { get; init; } = true;

    public string? ChatTemplate { get; init; }

    /// <summary>The engine's built-in small vocabulary (<see cref="BpeVocabularyBuilder.DefaultSmallVocabulary"/>), for tests and demos.</summary>
    public static TokenizerData DefaultSmall(int vocabSize)
    {
        var (tokens, merges) = BpeVocabularyBuilder.DefaultSmallVocabulary(vocabSize);
        var types = tokens.Select(t => t.Length > 4 && t.StartsWith("<|", StringComparison.Ordinal) && t.EndsWith("|>", StringComparison.Ordinal) ? 3 : 1).ToArray();
        var id = (string s) => Array.IndexOf(tokens, s);
        return new TokenizerData
        {
            Tokens = tokens, Merges = merges, TokenTypes = types, Pre = "gpt-2",
            BosId = id("<|begin_of_text|>"), EosId = id("<|end_of_text|>"), EotId = id("<|eot_id|>"),
            ChatTemplate = TokenizerMetadata.DefaultChatTemplate,
        };
    }

    /// <summary>Writes the <c>tokenizer.*</c> GGUF keys (validated by the engine's <see cref="TokenizerMetadata"/>).</summary>
    public void WriteTo(GgufWriter writer) =>
        TokenizerMetadata.Write(writer, Tokens, Merges, TokenTypes, Pre, BosId, EosId, EotId, AddBos, chatTemplate: ChatTemplate);

    /// <summary>Writes <c>tokenizer.json</c> into <paramref name="directory"/>.</summary>
    public void Save(string directory)
    {
        var vocab = new JsonObject();
        var added = new JsonArray();
        for (var i = 0; i < Tokens.Length; i++)
        {
            vocab[Tokens[i]] = i;
            if (TokenTypes[i] is 3 or 4)
            {
                added.Add(new JsonObject { ["id"] = i, ["content"] = Tokens[i], ["special"] = TokenTypes[i] == 3 });
            }
        }

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(Merges.Select(m => (JsonNode)m).ToArray()),
            },
            ["wrinklefree"] = new JsonObject
            {
                ["pre"] = Pre,
                ["bos_token_id"] = BosId,
                ["eos_token_id"] = EosId,
                ["eot_token_id"] = EotId,
                ["add_bos_token"] = AddBos,
                ["chat_template"] = ChatTemplate,
                ["token_types"] = new JsonArray(TokenTypes.Select(t => (JsonNode)t).ToArray()),
            },
        };
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), root.ToJsonString());
    }

    /// <summary>
    /// Reads <c>tokenizer.json</c> from a checkpoint directory: ours, or a Hugging Face byte-level BPE one (Qwen3, LLaMA 3),
    /// taking special ids from config.json and the pre-tokenizer from the model type.
    /// </summary>
    public static TokenizerData Load(string directory, Model.ModelConfig config)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"'{directory}' has no {FileName}; the GGUF export embeds the tokenizer, so copy the teacher's tokenizer.json into the checkpoint", path);
        }

        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON: {e.Message}", e);
        }

        if (root["model"] is not JsonObject model || (string?)model["type"] != "BPE" || model["vocab"] is not JsonObject vocab)
        {
            throw new InvalidDataException($"{path}: model.type must be BPE with a model.vocab object (only byte-level BPE tokenizers are supported)");
        }

        var ids = new Dictionary<int, (string Token, int Type)>();
        foreach (var (token, id) in vocab)
        {
            ids[(int)id!] = (token, 1);
        }

        foreach (var a in root["added_tokens"]?.AsArray() ?? [])
        {
            var special = (bool?)a!["special"] ?? false;
            ids[(int)a["id"]!] = ((string)a["content"]!, special ? 3 : 4);
        }

        var count = ids.Count == 0 ? 0 : ids.Keys.Max() + 1;
        var tokens = new string[count];
        var types = new int[count];
        for (var i = 0; i < count; i++)
        {
            // Unused ids become user-defined padding tokens, as llama.cpp's converter does.
            (tokens[i], types[i]) = ids.TryGetValue(i, out var t) ? t : ($"[PAD{i}]", 4);
        }

        var merges = (model["merges"]?.AsArray() ?? []).Select(m => m is JsonArray pair ? $"{(string)pair[0]!} {(string)pair[1]!}" : (string)m!).ToArray();
        if (root["wrinklefree"] is JsonObject ours)
        {
            var storedTypes = ours["token_types"]?.AsArray().Select(t => (int)t!).ToArray();
            return new TokenizerData
            {
                Tokens = tokens, Merges = merges, TokenTypes = storedTypes?.Length == count ? storedTypes : types,
                Pre = (string?)ours["pre"] ?? "gpt-2", BosId = (int?)ours["bos_token_id"] ?? -1, EosId = (int?)ours["eos_token_id"] ?? -1,
                EotId = (int?)ours["eot_token_id"] ?? -1, AddBos = (bool?)ours["add_bos_token"] ?? true, ChatTemplate = (string?)ours["chat_template"],
            };
        }

        var eos = config.EosTokenId ?? throw new InvalidDataException($"{directory}: config.json has no eos_token_id; the GGUF tokenizer needs one");
        return new TokenizerData
        {
            Tokens = tokens, Merges = merges, TokenTypes = types,
            Pre = config.ModelType == "qwen3" ? "qwen2" : "llama-bpe",
            BosId = config.BosTokenId ?? eos, EosId = eos, AddBos = config.ModelType == "llama",
        };
    }
}
