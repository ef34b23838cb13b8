using System.Runtime.InteropServices;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Formats;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Models;

/// <summary>
/// Deterministic random ternary models in llama.cpp's <c>bitnet</c> architecture with a small real BPE vocabulary:
/// the same seed gives the same file, and the same seed in TQ2_0, TQ1_0 and I2_S gives the same weights (one fp16-exact
/// scale per tensor), so formats can be compared with each other and with llama.cpp.
/// </summary>
public static class SyntheticModel
{
    /// <summary>
    /// Writes the model to <paramref name="path"/> atomically; <paramref name="progress"/> gets 0..1.
    /// <paramref name="extraMetadata"/> adds keys after the tokenizer's (tests give a model FIM token ids this way).
    /// </summary>
    public static void Write(string path, SyntheticShape shape, GgmlType ternaryType, int seed, GgmlType? embeddingType = null, IProgress<double>? progress = null,
        IReadOnlyDictionary<string, GgufValue>? extraMetadata = null)
    {
        if (ternaryType is not (GgmlType.TQ2_0 or GgmlType.TQ1_0 or GgmlType.I2_S or GgmlType.Q2_0 or GgmlType.IQ1_BN or GgmlType.IQ2_BN))
        {
            throw new ArgumentException($"ternary type must be tq2_0, tq1_0, i2_s, q2_0, iq1_bn or iq2_bn, not {ternaryType}", nameof(ternaryType));
        }

        var embType = embeddingType ?? (shape.VocabSize * (long)shape.Dim > 16_000_000 ? GgmlType.Q8_0 : GgmlType.F16);
        var rng = new SplitMix(seed);
        var w = new GgufWriter();
        const string arch = "bitnet";
        w.Add("general.architecture", arch);
        w.Add("general.name", $"wrinklefree-synthetic-{shape.Name}-{ternaryType.ToString().ToLowerInvariant()}");
        // llama.cpp's (and ik_llama.cpp's) file-type numbers; informational only, so left out for Q2_0 rather than guessed.
        if (ternaryType switch { GgmlType.TQ1_0 => 36u, GgmlType.TQ2_0 => 37u, GgmlType.IQ1_BN => 136u, GgmlType.IQ2_BN => 137u, GgmlType.I2_S => 40u, _ => (uint?)null } is { } fileType)
        {
            w.Add("general.file_type", fileType);
        }

        w.Add($"{arch}.vocab_size", (uint)shape.VocabSize);
        w.Add($"{arch}.context_length", (uint)shape.ContextLength);
        w.Add($"{arch}.embedding_length", (uint)shape.Dim);
        w.Add($"{arch}.block_count", (uint)shape.Layers);
        w.Add($"{arch}.feed_forward_length", (uint)shape.FfnDim);
        w.Add($"{arch}.attention.head_count", (uint)shape.Heads);
        w.Add($"{arch}.attention.head_count_kv", (uint)shape.KvHeads);
        w.Add($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f);
        w.Add($"{arch}.rope.freq_base", shape.Activation == Activation.ReluSquared ? 500000f : 10000f);
        w.Add($"{arch}.rope.dimension_count", (uint)shape.HeadDim);
        if (shape.Activation == Activation.ReluSquared)
        {
            w.Add($"{arch}.hidden_act", "relu2");
        }

        TokenizerMetadata.WriteDefaultSmallVocabulary(w, shape.VocabSize);
        foreach (var (key, value) in extraMetadata ?? new Dictionary<string, GgufValue>())
        {
            w.Add(key, value);
        }

        var total = 1 + shape.Layers;
        w.AddTensor("token_embd.weight", embType, [shape.Dim, shape.VocabSize], Embedding(shape, embType, rng));
        w.AddTensor("output_norm.weight", GgmlType.F32, [shape.Dim], Norm(shape.Dim, rng));
        progress?.Report(1.0 / total);
        for (var i = 0; i < shape.Layers; i++)
        {
            var b = $"blk.{i}.";
            var qDim = shape.Heads * shape.HeadDim;
            var kvDim = shape.KvHeads * shape.HeadDim;
            w.AddTensor(b + "attn_norm.weight", GgmlType.F32, [shape.Dim], Norm(shape.Dim, rng));
            w.AddTensor(b + "attn_q.weight", ternaryType, [shape.Dim, qDim], Ternary(ternaryType, shape.Dim, qDim, rng));
            w.AddTensor(b + "attn_k.weight", ternaryType, [shape.Dim, kvDim], Ternary(ternaryType, shape.Dim, kvDim, rng));
            w.AddTensor(b + "attn_v.weight", ternaryType, [shape.Dim, kvDim], Ternary(ternaryType, shape.Dim, kvDim, rng));
            w.AddTensor(b + "attn_sub_norm.weight", GgmlType.F32, [qDim], Norm(qDim, rng));
            w.AddTensor(b + "attn_output.weight", ternaryType, [qDim, shape.Dim], Ternary(ternaryType, qDim, shape.Dim, rng));
            w.AddTensor(b + "ffn_norm.weight", GgmlType.F32, [shape.Dim], Norm(shape.Dim, rng));
            w.AddTensor(b + "ffn_gate.weight", ternaryType, [shape.Dim, shape.FfnDim], Ternary(ternaryType, shape.Dim, shape.FfnDim, rng));
            w.AddTensor(b + "ffn_up.weight", ternaryType, [shape.Dim, shape.FfnDim], Ternary(ternaryType, shape.Dim, shape.FfnDim, rng));
            w.AddTensor(b + "ffn_sub_norm.weight", GgmlType.F32, [shape.FfnDim], Norm(shape.FfnDim, rng));
            w.AddTensor(b + "ffn_down.weight", ternaryType, [shape.FfnDim, shape.Dim], Ternary(ternaryType, shape.FfnDim, shape.Dim, rng));
            progress?.Report((2.0 + i) / total);
        }

        w.WriteTo(path);
        progress?.Report(1);
    }

    /// <summary>
    /// Random trits (about one half zeros, as trained BitNet layers have) with a per-tensor scale near 1/sqrt(fan-in),
    /// rounded to fp16 so that every ternary format stores it exactly.
    /// </summary>
    private static byte[] Ternary(GgmlType type, int columns, int rows, SplitMix rng)
    {
        var trits = new sbyte[(long)columns * rows];
        rng.FillTrits(trits);
        var scale = (float)(Half)(1.0 / Math.Sqrt(columns * 0.5));
        return TernaryEncoding.Encode(type, trits, scale, columns);
    }

    private static byte[] Norm(int n, SplitMix rng)
    {
        var v = new float[n];
        for (var i = 0; i < n; i++)
        {
            v[i] = 1f + (rng.NextFloat() - 0.5f) * 0.2f;
        }

        return MemoryMarshal.AsBytes(v.AsSpan()).ToArray();
    }

    private static byte[] Embedding(SyntheticShape shape, GgmlType type, SplitMix rng)
    {
        var info = GgmlTypeInfo.Of(type)!.Value;
        var rowBytes = (int)info.RowBytes(shape.Dim);
        var data = new byte[(long)rowBytes * shape.VocabSize];
        var row = new float[shape.Dim];
        for (var r = 0; r < shape.VocabSize; r++)
        {
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = (rng.NextFloat() - 0.5f) * 2f;
            }

            TensorCodec.Quantize(type, row, data.AsSpan(r * rowBytes, rowBytes));
        }

        return data;
    }

    /// <summary>SplitMix64: tiny, fast and stable across .NET versions (System.Random's seeded output is not a contract).</summary>
    private sealed class SplitMix(int seed)
    {
        private ulong _state = (ulong)seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E8C5UL;

        public ulong Next()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public float NextFloat() => (Next() >> 40) / (float)(1 << 24);

        /// <summary>Two random bits per weight: 0 → -1, 1 and 3 → 0, 2 → +1.</summary>
        public void FillTrits(Span<sbyte> trits)
        {
            for (var i = 0; i < trits.Length; i += 32)
            {
                var bits = Next();
                var n = Math.Min(32, trits.Length - i);
                for (var j = 0; j < n; j++, bits >>= 2)
                {
                    trits[i + j] = (bits & 3) switch { 0 => -1, 2 => 1, _ => 0 };
                }
            }
        }
    }
}
