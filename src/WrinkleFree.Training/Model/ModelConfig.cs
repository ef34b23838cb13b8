using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using WrinkleFree.Platform.Files;

namespace WrinkleFree.Training.Model;

/// <summary>
/// Hyper-parameters of a LLaMA- or Qwen3-style causal LM in Hugging Face <c>config.json</c> terms, plus our keys
/// <c>wrinklefree_ternary</c> (linear layers are BitLinear) and <c>wrinklefree_subln</c> (SubLN before o_proj and down_proj).
/// </summary>
public sealed record ModelConfig
{
    /// <summary><c>model_type</c>: "qwen3" (q/k-norm) or "llama".</summary>
    public string ModelType { get; init; } = "qwen3";

    public required int VocabSize { get; init; }

    public required int HiddenSize { get; init; }

    public required int IntermediateSize { get; init; }

    public required int NumHiddenLayers { get; init; }

    public required int NumAttentionHeads { get; init; }

    /// <summary>Key/value heads (GQA); 0 means the same as <see cref="NumAttentionHeads"/>.</summary>
    public int NumKeyValueHeads { get; init; }

    /// <summary>Per-head dimension; 0 means hidden_size / num_attention_heads.</summary>
    public int HeadDim { get; init; }

    public double RopeTheta { get; init; } = 1_000_000;

    public double RmsNormEps { get; init; } = 1e-6;

    public bool TieWordEmbeddings { get; init; } = true;

    /// <summary><c>hidden_act</c>; only "silu" is supported (SwiGLU MLP).</summary>
    public string HiddenAct { get; init; } = "silu";

    public int MaxPositionEmbeddings { get; init; } = 2048;

    public int? BosTokenId { get; init; }

    public int? EosTokenId { get; init; }

    /// <summary>True when every linear layer except embeddings and LM head is a <see cref="BitLinear"/>.</summary>
    public bool Ternary { get; init; }

    /// <summary>True when a SubLN (RMSNorm) sits before o_proj and down_proj.</summary>
    public bool SubLn { get; init; }

    /// <summary>Qwen3 normalizes each head of q and k (RMSNorm over head_dim) before RoPE; LLaMA does not.</summary>
    public bool QkNorm => ModelType == "qwen3";

    public int KeyValueHeads => NumKeyValueHeads > 0 ? NumKeyValueHeads : NumAttentionHeads;

    public int HeadDimension => HeadDim > 0 ? HeadDim : HiddenSize / NumAttentionHeads;

    /// <summary>Reads and validates a Hugging Face <c>config.json</c>.</summary>
    public static ModelConfig Load(string configJsonPath)
    {
        string text;
        try
        {
            text = File.ReadAllText(configJsonPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read model config '{configJsonPath}': {e.Message}", e);
        }

        return FromJson(text, configJsonPath);
    }

    /// <summary>Parses config.json text; <paramref name="source"/> names the file in error messages.</summary>
    public static ModelConfig FromJson(string json, string source = "config.json")
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: the top level must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid JSON: {e.Message}", e);
        }

        var type = Str(root, "model_type", source) ?? throw Missing("model_type", source);
        if (type is not ("qwen3" or "llama"))
        {
            throw new InvalidDataException($"{source}: model_type '{type}' is not supported; use a qwen3 or llama checkpoint");
        }

        if (root["rope_scaling"] is JsonObject)
        {
            throw new InvalidDataException($"{source}: rope_scaling is not supported (neither here nor in the engine); use a checkpoint without it");
        }

        foreach (var bias in new[] { "attention_bias", "mlp_bias" })
        {
            if (root[bias] is JsonValue v && v.TryGetValue<bool>(out var b) && b)
            {
                throw new InvalidDataException($"{source}: {bias} = true is not supported (linear layers have no bias)");
            }
        }

        var config = new ModelConfig
        {
            ModelType = type,
            VocabSize = Int(root, "vocab_size", source) ?? throw Missing("vocab_size", source),
            HiddenSize = Int(root, "hidden_size", source) ?? throw Missing("hidden_size", source),
            IntermediateSize = Int(root, "intermediate_size", source) ?? throw Missing("intermediate_size", source),
            NumHiddenLayers = Int(root, "num_hidden_layers", source) ?? throw Missing("num_hidden_layers", source),
            NumAttentionHeads = Int(root, "num_attention_heads", source) ?? throw Missing("num_attention_heads", source),
            NumKeyValueHeads = Int(root, "num_key_value_heads", source) ?? 0,
            HeadDim = Int(root, "head_dim", source) ?? 0,
            RopeTheta = Num(root, "rope_theta", source) ?? (type == "qwen3" ? 1_000_000 : 10_000),
            RmsNormEps = Num(root, "rms_norm_eps", source) ?? 1e-6,
            TieWordEmbeddings = Bool(root, "tie_word_embeddings", source) ?? false,
            HiddenAct = Str(root, "hidden_act", source) ?? "silu",
            MaxPositionEmbeddings = Int(root, "max_position_embeddings", source) ?? 2048,
            BosTokenId = Int(root, "bos_token_id", source),
            // LLaMA 3 lists several end tokens; the first is the one generation stops on by default.
            EosTokenId = root["eos_token_id"] is JsonArray { Count: > 0 } eos ? Int(new JsonObject { ["eos"] = eos[0]?.DeepClone() }, "eos", source)
                : Int(root, "eos_token_id", source),
            Ternary = Bool(root, "wrinklefree_ternary", source) ?? false,
            SubLn = Bool(root, "wrinklefree_subln", source) ?? false,
        };
        config.Validate(source);
        return config;
    }

    /// <summary>Writes config.json (Hugging Face keys plus ours), atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>The config.json text.</summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(ModelType == "qwen3" ? "Qwen3ForCausalLM" : "LlamaForCausalLM"),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = KeyValueHeads,
            ["head_dim"] = HeadDimension,
            ["rope_theta"] = RopeTheta,
            ["rms_norm_eps"] = RmsNormEps,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["hidden_act"] = HiddenAct,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["torch_dtype"] = "float32",
            ["wrinklefree_ternary"] = Ternary,
            ["wrinklefree_subln"] = SubLn,
        };
        if (BosTokenId is { } bos)
        {
            o["bos_token_id"] = bos;
        }

        if (EosTokenId is { } eos)
        {
            o["eos_token_id"] = eos;
        }

        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Checks every field; the error names the key, its value and the rule.</summary>
    public void Validate(string source = "config.json")
    {
        Check(VocabSize > 0, "vocab_size", VocabSize);
        Check(HiddenSize > 0, "hidden_size", HiddenSize);
        Check(IntermediateSize > 0, "intermediate_size", IntermediateSize);
        Check(NumHiddenLayers > 0, "num_hidden_layers", NumHiddenLayers);
        Check(NumAttentionHeads > 0, "num_attention_heads", NumAttentionHeads);
        Check(KeyValueHeads > 0 && NumAttentionHeads % KeyValueHeads == 0, "num_key_value_heads", KeyValueHeads,
            $"must divide num_attention_heads ({NumAttentionHeads})");
        Check(HeadDimension > 0 && HeadDimension % 2 == 0, "head_dim", HeadDimension, "must be positive and even (RoPE rotates pairs)");
        Check(HeadDim > 0 || HiddenSize % NumAttentionHeads == 0, "hidden_size", HiddenSize,
            $"must be a multiple of num_attention_heads ({NumAttentionHeads}) when head_dim is not given");
        Check(RopeTheta > 0, "rope_theta", RopeTheta);
        Check(RmsNormEps > 0, "rms_norm_eps", RmsNormEps);
        Check(MaxPositionEmbeddings > 0, "max_position_embeddings", MaxPositionEmbeddings);
        Check(HiddenAct is "silu" or "swish", "hidden_act", HiddenAct, "only silu (SwiGLU) is supported");
        Check(ModelType is "qwen3" or "llama", "model_type", ModelType, "must be qwen3 or llama");

        void Check(bool ok, string key, object value, string rule = "must be positive")
        {
            if (!ok)
            {
                throw new InvalidDataException(
                    $"{source}: {key} = {Convert.ToString(value, CultureInfo.InvariantCulture)}: {rule}");
            }
        }
    }

    private static InvalidDataException Missing(string key, string source) =>
        new($"{source}: required key '{key}' is missing");

    private static JsonValue? Value(JsonObject o, string key, string source) => o[key] switch
    {
        null => null,
        JsonValue v => v,
        _ => throw new InvalidDataException($"{source}: '{key}' must be a single value, not {o[key]!.GetValueKind()}"),
    };

    private static int? Int(JsonObject o, string key, string source)
    {
        var v = Value(o, key, source);
        if (v is null)
        {
            return null;
        }

        if (v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue)
        {
            return (int)d;
        }

        throw new InvalidDataException($"{source}: '{key}' must be an integer, got {v.ToJsonString()}");
    }

    private static double? Num(JsonObject o, string key, string source)
    {
        var v = Value(o, key, source);
        return v is null ? null
            : v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>()
            : throw new InvalidDataException($"{source}: '{key}' must be a number, got {v.ToJsonString()}");
    }

    private static bool? Bool(JsonObject o, string key, string source)
    {
        var v = Value(o, key, source);
        return v is null ? null
            : v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>()
            : throw new InvalidDataException($"{source}: '{key}' must be true or false, got {v.ToJsonString()}");
    }

    private static string? Str(JsonObject o, string key, string source)
    {
        var v = Value(o, key, source);
        return v is null ? null
            : v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
            : throw new InvalidDataException($"{source}: '{key}' must be a string, got {v.ToJsonString()}");
    }
}
