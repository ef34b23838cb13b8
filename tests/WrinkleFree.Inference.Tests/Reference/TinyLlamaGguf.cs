using System.Runtime.InteropServices;
using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tests.Reference;

/// <summary>
/// Writes a tiny llama-architecture GGUF (F32 weights from a seeded generator, unit norms) with the real gpt-2
/// vocabulary, small enough for llama.cpp to load and run in well under a second.
/// </summary>
internal static class TinyLlamaGguf
{
    public const int Dim = 64;
    public const int Layers = 2;
    public const int Heads = 4;
    public const int FeedForward = 128;
    public const int ContextLength = 256;

    /// <summary>
    /// Writes the model to a fresh temp file and returns its path; the caller deletes it. <paramref name="architecture"/>
    /// "qwen3" adds per-head q/k norms; <paramref name="weightType"/> (F32, F16, Q8_0) applies to the linear layers.
    /// </summary>
    public static string Write(int seed, string architecture = "llama", GgmlType weightType = GgmlType.F32, int kvHeads = Heads, Func<string, bool>? include = null)
    {
        var a = architecture;
        var kvDim = Dim / Heads * kvHeads;
        using var vocabulary = GgufFile.Open(Path.Combine(TestPaths.Tokenizers, "ggml-vocab-gpt-2.gguf"));
        var tokens = vocabulary.Metadata.GetArray<string>("tokenizer.ggml.tokens")!;
        var writer = new GgufWriter()
            .Add("general.architecture", a)
            .Add("general.name", $"wf-tiny-{a}")
            .Add($"{a}.context_length", (uint)ContextLength)
            .Add($"{a}.embedding_length", (uint)Dim)
            .Add($"{a}.block_count", (uint)Layers)
            .Add($"{a}.feed_forward_length", (uint)FeedForward)
            .Add($"{a}.attention.head_count", (uint)Heads)
            .Add($"{a}.attention.head_count_kv", (uint)kvHeads)
            .Add($"{a}.attention.key_length", (uint)(Dim / Heads))
            .Add($"{a}.attention.value_length", (uint)(Dim / Heads))
            .Add($"{a}.attention.layer_norm_rms_epsilon", 1e-5f)
            .Add($"{a}.rope.dimension_count", (uint)(Dim / Heads))
            .Add($"{a}.rope.freq_base", 10000f)
            .Add($"{a}.vocab_size", (uint)tokens.Length);
        foreach (var key in vocabulary.Metadata.Keys)
        {
            if (key.StartsWith("tokenizer.", StringComparison.Ordinal))
            {
                writer.Add(key, vocabulary.Metadata[key]);
            }
        }

        // The gpt-2 file already says model "gpt2" and pre "gpt-2"; pinning them keeps the test independent of that.
        writer.Add("tokenizer.ggml.model", "gpt2").Add("tokenizer.ggml.pre", "gpt-2");

        var random = new Random(seed);
        // No output.weight: llama.cpp then ties the LM head to token_embd, halving the file.
        writer.AddTensor("token_embd.weight", GgmlType.F32, [Dim, tokens.Length], RandomF32(random, Dim * tokens.Length, 1.0f));
        writer.AddTensor("output_norm.weight", GgmlType.F32, [Dim], Ones(Dim));
        var scale = 1.0f / MathF.Sqrt(Dim);
        for (var layer = 0; layer < Layers; layer++)
        {
            var prefix = $"blk.{layer}.";
            writer.AddTensor(prefix + "attn_norm.weight", GgmlType.F32, [Dim], Ones(Dim));
            writer.AddTensor(prefix + "attn_q.weight", weightType, [Dim, Dim], Weights(random, weightType, Dim, Dim, scale));
            writer.AddTensor(prefix + "attn_k.weight", weightType, [Dim, kvDim], Weights(random, weightType, Dim, kvDim, scale));
            writer.AddTensor(prefix + "attn_v.weight", weightType, [Dim, kvDim], Weights(random, weightType, Dim, kvDim, scale));
            writer.AddTensor(prefix + "attn_output.weight", weightType, [Dim, Dim], Weights(random, weightType, Dim, Dim, scale));
            if (a is "qwen3" or "wrinklefree")
            {
                writer.AddTensor(prefix + "attn_q_norm.weight", GgmlType.F32, [Dim / Heads], RandomF32(random, Dim / Heads, 0.2f, 1f));
                writer.AddTensor(prefix + "attn_k_norm.weight", GgmlType.F32, [Dim / Heads], RandomF32(random, Dim / Heads, 0.2f, 1f));
            }

            if (a == "wrinklefree" && (include?.Invoke(prefix + "attn_sub_norm.weight") ?? true))
            {
                writer.AddTensor(prefix + "attn_sub_norm.weight", GgmlType.F32, [Dim], RandomF32(random, Dim, 0.2f, 1f));
            }

            if (a == "wrinklefree" && (include?.Invoke(prefix + "ffn_sub_norm.weight") ?? true))
            {
                writer.AddTensor(prefix + "ffn_sub_norm.weight", GgmlType.F32, [FeedForward], RandomF32(random, FeedForward, 0.2f, 1f));
            }

            writer.AddTensor(prefix + "ffn_norm.weight", GgmlType.F32, [Dim], Ones(Dim));
            writer.AddTensor(prefix + "ffn_gate.weight", weightType, [Dim, FeedForward], Weights(random, weightType, Dim, FeedForward, scale));
            writer.AddTensor(prefix + "ffn_up.weight", weightType, [Dim, FeedForward], Weights(random, weightType, Dim, FeedForward, scale));
            writer.AddTensor(prefix + "ffn_down.weight", weightType, [FeedForward, Dim], Weights(random, weightType, FeedForward, Dim, 1.0f / MathF.Sqrt(FeedForward)));
        }

        var path = TestPaths.TempFile();
        writer.WriteTo(path);
        return path;
    }

    /// <summary>Uniform values in [-√3, √3]·scale (unit variance times <paramref name="scale"/>) plus <paramref name="offset"/>.</summary>
    private static byte[] RandomF32(Random random, int count, float scale, float offset = 0f) =>
        MemoryMarshal.AsBytes(RandomValues(random, count, scale, offset).AsSpan()).ToArray();

    private static float[] RandomValues(Random random, int count, float scale, float offset = 0f)
    {
        var values = new float[count];
        var half = MathF.Sqrt(3f) * scale;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2 - 1) * half) + offset;
        }

        return values;
    }

    private static byte[] Weights(Random random, GgmlType type, int columns, int rows, float scale)
    {
        var values = RandomValues(random, columns * rows, scale);
        var bytes = new byte[GgmlTypeInfo.Of(type)!.Value.ByteSize(values.Length)];
        WrinkleFree.Inference.Tensors.Formats.TensorCodec.Quantize(type, values, bytes);
        return bytes;
    }

    private static byte[] Ones(int count)
    {
        var values = new float[count];
        Array.Fill(values, 1f);
        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }
}
