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

    /// <summary>Writes the model to a fresh temp file and returns its path; the caller deletes it.</summary>
    public static string Write(int seed)
    {
        using var vocabulary = GgufFile.Open(Path.Combine(TestPaths.Tokenizers, "ggml-vocab-gpt-2.gguf"));
        var tokens = vocabulary.Metadata.GetArray<string>("tokenizer.ggml.tokens")!;
        var writer = new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("general.name", "wf-tiny-llama")
            .Add("llama.context_length", (uint)ContextLength)
            .Add("llama.embedding_length", (uint)Dim)
            .Add("llama.block_count", (uint)Layers)
            .Add("llama.feed_forward_length", (uint)FeedForward)
            .Add("llama.attention.head_count", (uint)Heads)
            .Add("llama.attention.head_count_kv", (uint)Heads)
            .Add("llama.attention.layer_norm_rms_epsilon", 1e-5f)
            .Add("llama.rope.dimension_count", (uint)(Dim / Heads))
            .Add("llama.rope.freq_base", 10000f)
            .Add("llama.vocab_size", (uint)tokens.Length);
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
            foreach (var name in (string[])["attn_q", "attn_k", "attn_v", "attn_output"])
            {
                writer.AddTensor(prefix + name + ".weight", GgmlType.F32, [Dim, Dim], RandomF32(random, Dim * Dim, scale));
            }

            writer.AddTensor(prefix + "ffn_norm.weight", GgmlType.F32, [Dim], Ones(Dim));
            writer.AddTensor(prefix + "ffn_gate.weight", GgmlType.F32, [Dim, FeedForward], RandomF32(random, Dim * FeedForward, scale));
            writer.AddTensor(prefix + "ffn_up.weight", GgmlType.F32, [Dim, FeedForward], RandomF32(random, Dim * FeedForward, scale));
            writer.AddTensor(prefix + "ffn_down.weight", GgmlType.F32, [FeedForward, Dim], RandomF32(random, FeedForward * Dim, 1.0f / MathF.Sqrt(FeedForward)));
        }

        var path = TestPaths.TempFile();
        writer.WriteTo(path);
        return path;
    }

    /// <summary>Uniform values in [-√3, √3]·scale, i.e. unit variance times <paramref name="scale"/>.</summary>
    private static byte[] RandomF32(Random random, int count, float scale)
    {
        var values = new float[count];
        var half = MathF.Sqrt(3f) * scale;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2 - 1) * half);
        }

        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    private static byte[] Ones(int count)
    {
        var values = new float[count];
        Array.Fill(values, 1f);
        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }
}
