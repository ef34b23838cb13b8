using System.Runtime.InteropServices;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Formats;
using WrinkleFree.Training.Model;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Export;

/// <summary>
/// Writes a <see cref="CausalLanguageModel"/> as GGUF for the engine. A ternary model with SubLN (q/k-norm when it has them) becomes the
/// <c>wrinklefree</c> architecture: each BitLinear stored as its trits (I2_S or TQ2_0 with scale 1) plus an f32
/// <c>.scale</c> tensor holding the absmean scale, so the engine computes exactly the values BitLinear uses. A
/// full-precision model becomes <c>qwen3</c> or <c>llama</c> with F16/F32 linear layers.
/// </summary>
public static class GgufExporter
{
    /// <summary>Writes <paramref name="path"/> atomically; errors say which model property the format cannot hold.</summary>
    public static void Export(CausalLanguageModel model, TokenizerData tokenizer, string path, GgufExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(options);
        var c = model.Config;
        var arch = Architecture(c);
        if (options.TernaryType is not (GgmlType.I2_S or GgmlType.TQ2_0))
        {
            throw new ArgumentException($"ternary type must be i2_s or tq2_0, not {options.TernaryType}", nameof(options));
        }

        if (options.EmbeddingType is not (GgmlType.Q8_0 or GgmlType.F16 or GgmlType.F32))
        {
            throw new ArgumentException($"embedding type must be q8_0, f16 or f32, not {options.EmbeddingType}", nameof(options));
        }

        if (options.FullPrecisionType is not (GgmlType.F16 or GgmlType.F32))
        {
            throw new ArgumentException($"full-precision type must be f16 or f32, not {options.FullPrecisionType}", nameof(options));
        }

        if (tokenizer.Tokens.Length > c.VocabSize)
        {
            throw new ArgumentException($"the tokenizer has {tokenizer.Tokens.Length} tokens but the model's vocab_size is {c.VocabSize}", nameof(tokenizer));
        }

        var p = model.NamedParameters();
        var w = new GgufWriter();
        w.Add("general.architecture", arch);
        w.Add("general.name", options.Name ?? Path.GetFileNameWithoutExtension(path));
        w.Add($"{arch}.vocab_size", (uint)c.VocabSize);
        w.Add($"{arch}.context_length", (uint)c.MaxPositionEmbeddings);
        w.Add($"{arch}.embedding_length", (uint)c.HiddenSize);
        w.Add($"{arch}.block_count", (uint)c.NumHiddenLayers);
        w.Add($"{arch}.feed_forward_length", (uint)c.IntermediateSize);
        w.Add($"{arch}.attention.head_count", (uint)c.NumAttentionHeads);
        w.Add($"{arch}.attention.head_count_kv", (uint)c.KeyValueHeads);
        w.Add($"{arch}.attention.key_length", (uint)c.HeadDimension);
        w.Add($"{arch}.attention.value_length", (uint)c.HeadDimension);
        w.Add($"{arch}.attention.layer_norm_rms_epsilon", (float)c.RmsNormEps);
        w.Add($"{arch}.rope.freq_base", (float)c.RopeTheta);
        w.Add($"{arch}.rope.dimension_count", (uint)c.HeadDimension);
        w.Add($"{arch}.hidden_act", "silu");
        tokenizer.WriteTo(w);

        Dense(w, "token_embd.weight", p["model.embed_tokens.weight"], options.EmbeddingType);
        Vector(w, "output_norm.weight", p["model.norm.weight"]);
        if (!c.TieWordEmbeddings)
        {
            Dense(w, "output.weight", p["lm_head.weight"], options.EmbeddingType);
        }

        for (var i = 0; i < c.NumHiddenLayers; i++)
        {
            var hf = $"model.layers.{i}.";
            var b = $"blk.{i}.";
            Vector(w, b + "attn_norm.weight", p[hf + "input_layernorm.weight"]);
            Vector(w, b + "ffn_norm.weight", p[hf + "post_attention_layernorm.weight"]);
            if (c.QkNorm)
            {
                Vector(w, b + "attn_q_norm.weight", p[hf + "self_attn.q_norm.weight"]);
                Vector(w, b + "attn_k_norm.weight", p[hf + "self_attn.k_norm.weight"]);
            }

            if (c.SubLn)
            {
                Vector(w, b + "attn_sub_norm.weight", p[hf + "self_attn.attn_sub_norm.weight"]);
                Vector(w, b + "ffn_sub_norm.weight", p[hf + "mlp.ffn_sub_norm.weight"]);
            }

            // LLaMA GGUFs use adjacent-pair RoPE, so q/k rows are permuted from HF's half-split layout (as llama.cpp's converter does).
            var permute = arch == "llama";
            Linear(w, c, options, b + "attn_q", p[hf + "self_attn.q_proj.weight"], permute ? c.NumAttentionHeads : 0);
            Linear(w, c, options, b + "attn_k", p[hf + "self_attn.k_proj.weight"], permute ? c.KeyValueHeads : 0);
            Linear(w, c, options, b + "attn_v", p[hf + "self_attn.v_proj.weight"], 0);
            Linear(w, c, options, b + "attn_output", p[hf + "self_attn.o_proj.weight"], 0);
            Linear(w, c, options, b + "ffn_gate", p[hf + "mlp.gate_proj.weight"], 0);
            Linear(w, c, options, b + "ffn_up", p[hf + "mlp.up_proj.weight"], 0);
            Linear(w, c, options, b + "ffn_down", p[hf + "mlp.down_proj.weight"], 0);
        }

        w.Add("general.file_type", !c.Ternary ? (options.FullPrecisionType == GgmlType.F32 ? 0u : 1u)
            : options.TernaryType == GgmlType.TQ2_0 ? 37u : 40u);
        w.WriteTo(path);
    }

    /// <summary>The GGUF architecture a model exports as, or an error saying what blocks the export.</summary>
    public static string Architecture(ModelConfig c)
    {
        if (!c.Ternary)
        {
            if (c.SubLn)
            {
                throw new NotSupportedException("a full-precision model with SubLN has no GGUF architecture in the engine; export the ternary student instead");
            }

            return c.ModelType;
        }

        if (!c.SubLn)
        {
            throw new NotSupportedException(
                $"the wrinklefree GGUF architecture needs SubLN (a model converted with `wf train stage1 --subln`); this model has model_type {c.ModelType}, subln={c.SubLn}");
        }

        return "wrinklefree";
    }

    private static float[] Floats(Tensor t)
    {
        using var cpu = t.detach().to(ScalarType.Float32).cpu().contiguous();
        return cpu.data<float>().ToArray();
    }

    private static void Vector(GgufWriter w, string name, Tensor t) =>
        w.AddTensor(name, GgmlType.F32, [t.numel()], MemoryMarshal.AsBytes(Floats(t).AsSpan()).ToArray());

    private static void Dense(GgufWriter w, string name, Tensor t, GgmlType type)
    {
        var (rows, columns) = (t.shape[0], t.shape[1]);
        var block = GgmlTypeInfo.Of(type)!.Value.BlockSize;
        if (columns % block != 0)
        {
            throw new NotSupportedException($"tensor '{name}': row length {columns} is not a multiple of the {type} block size {block}; choose another type");
        }

        var data = new byte[GgmlTypeInfo.Of(type)!.Value.ByteSize(rows * columns)];
        TensorCodec.Quantize(type, Floats(t), data);
        w.AddTensor(name, type, [columns, rows], data);
    }

    private static void Linear(GgufWriter w, ModelConfig c, GgufExportOptions options, string name, Tensor weight, int permuteHeads)
    {
        using var scope = NewDisposeScope();
        var t = weight.detach();
        if (permuteHeads > 0)
        {
            var (rows, columns) = (t.shape[0], t.shape[1]);
            t = t.view(permuteHeads, 2, rows / permuteHeads / 2, columns).transpose(1, 2).reshape(rows, columns);
        }

        if (!c.Ternary)
        {
            Dense(w, name + ".weight", t, options.FullPrecisionType);
            return;
        }

        var type = options.TernaryType;
        var block = GgmlTypeInfo.Of(type)!.Value.BlockSize;
        if (t.shape[1] % block != 0)
        {
            throw new NotSupportedException(
                $"tensor '{name}.weight': row length {t.shape[1]} is not a multiple of the {type} block size {block}; hidden_size, the q dimension and intermediate_size must be multiples of {block}");
        }

        // The same quantizer BitLinear runs in its forward pass, so the trits and the scale are exactly what the student used.
        var (trits, scale, _) = BitLinear.QuantizeWeights(t);
        var codes = Floats(trits).Select(v => (sbyte)v).ToArray();
        w.AddTensor(name + ".weight", type, [t.shape[1], t.shape[0]], TernaryEncoding.Encode(type, codes, 1f));
        w.AddTensor(name + ".scale", GgmlType.F32, [1], BitConverter.GetBytes(scale.item<float>()));
    }
}
