using System.Runtime.InteropServices;
using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tests.Reference;

/// <summary>
/// Writes a tiny llama.cpp <c>bitnet</c> GGUF whose projections are random TQ2_0 ternary blocks (F16 embeddings,
/// unit norms, gpt-2 vocabulary): the shape of model the engine is compared against llama.cpp on.
/// </summary>
internal static class TinyBitnetGguf
{
    public const int Dim = 256;
    public const int Layers = 2;
    public const int Heads = 4;
    public const int FeedForward = 512;
    public const int ContextLength = 256;

    /// <summary>Writes the model to a fresh temp file and returns its path; the caller deletes it.</summary>
    public static string Write(int seed)
    {
        using var vocabulary = GgufFile.Open(Path.Combine(TestPaths.Tokenizers, "ggml-vocab-gpt-2.gguf"));
        var tokens = vocabulary.Metadata.GetArray<string>("tokenizer.ggml.tokens")!;
        var writer = new GgufWriter()
            .Add("general.architecture", "bitnet")
            .Add("general.name", "wf-tiny-bitnet")
            .Add("bitnet.context_length", (uint)ContextLength)
            .Add("bitnet.embedding_length", (uint)Dim)
            .Add("bitnet.block_count", (uint)Layers)
            .Add("bitnet.feed_forward_length", (uint)FeedForward)
            .Add("bitnet.attention.head_count", (uint)Heads)
            .Add("bitnet.attention.head_count_kv", (uint)Heads)
            .Add("bitnet.attention.layer_norm_rms_epsilon", 1e-5f)
            .Add("bitnet.rope.dimension_count", (uint)(Dim / Heads))
            .Add("bitnet.rope.freq_base", 10000f)
            .Add("bitnet.vocab_size", (uint)tokens.Length);
        foreach (var key in vocabulary.Metadata.Keys)
        {
            if (key.StartsWith("tokenizer.", StringComparison.Ordinal))
            {
                writer.Add(key, vocabulary.Metadata[key]);
            }
        }

        var random = new Random(seed);
        // bitnet has no output.weight: llama.cpp uses token_embd as the LM head.
        writer.AddTensor("token_embd.weight", GgmlType.F16, [Dim, tokens.Length], RandomF16(random, Dim * tokens.Length));
        writer.AddTensor("output_norm.weight", GgmlType.F32, [Dim], Ones(Dim));
        for (var layer = 0; layer < Layers; layer++)
        {
            var prefix = $"blk.{layer}.";
            writer.AddTensor(prefix + "attn_norm.weight", GgmlType.F32, [Dim], Ones(Dim));
            foreach (var name in (string[])["attn_q", "attn_k", "attn_v", "attn_output"])
            {
                writer.AddTensor(prefix + name + ".weight", GgmlType.TQ2_0, [Dim, Dim], RandomTq2(random, Dim * Dim));
            }

            writer.AddTensor(prefix + "attn_sub_norm.weight", GgmlType.F32, [Dim], Ones(Dim));
            writer.AddTensor(prefix + "ffn_norm.weight", GgmlType.F32, [Dim], Ones(Dim));
            writer.AddTensor(prefix + "ffn_gate.weight", GgmlType.TQ2_0, [Dim, FeedForward], RandomTq2(random, Dim * FeedForward));
            writer.AddTensor(prefix + "ffn_up.weight", GgmlType.TQ2_0, [Dim, FeedForward], RandomTq2(random, Dim * FeedForward));
            writer.AddTensor(prefix + "ffn_sub_norm.weight", GgmlType.F32, [FeedForward], Ones(FeedForward));
            writer.AddTensor(prefix + "ffn_down.weight", GgmlType.TQ2_0, [FeedForward, Dim], RandomTq2(random, FeedForward * Dim));
        }

        var path = TestPaths.TempFile();
        writer.WriteTo(path);
        return path;
    }

    /// <summary>
    /// Random TQ2_0 blocks: 64 bytes of 2-bit codes (value + 1, so only 0..2) then an fp16 scale. The in-block order of
    /// the codes does not matter for random data, so every byte just holds four random codes.
    /// </summary>
    private static byte[] RandomTq2(Random random, int elements)
    {
        const int blockValues = 256, blockBytes = 66, codeBytes = 64;
        var data = new byte[elements / blockValues * blockBytes];
        for (var block = 0; block < data.Length; block += blockBytes)
        {
            for (var j = 0; j < codeBytes; j++)
            {
                var b = 0;
                for (var n = 0; n < 4; n++)
                {
                    b |= random.Next(3) << (2 * n);
                }

                data[block + j] = (byte)b;
            }

            // A scale near 1/sqrt(fan-in) keeps activations of order one through the random layers.
            var scale = (Half)(0.05f + 0.02f * random.NextSingle());
            BitConverter.TryWriteBytes(data.AsSpan(block + codeBytes, 2), scale);
        }

        return data;
    }

    private static byte[] RandomF16(Random random, int count)
    {
        var values = new Half[count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (Half)(random.NextSingle() * 2 - 1);
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
