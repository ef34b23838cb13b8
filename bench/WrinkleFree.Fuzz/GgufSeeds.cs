using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Fuzz;

/// <summary>
/// Writes the GGUF seed corpus with our own writer (<see cref="GgufWriter"/>, <see cref="TokenizerMetadata"/>): small
/// complete files a fuzzer can mutate into every branch of the reader, from the fixed header to the hyper-parameters.
/// </summary>
internal static class GgufSeeds
{
    public static void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        Save(directory, "bitnet-tiny.gguf", Model("bitnet", vocab: 300, dim: 8, relu2: true));
        Save(directory, "llama-tiny.gguf", Model("llama", vocab: 280, dim: 4, relu2: false));
        Save(directory, "wrinklefree-tiny.gguf", Model("wrinklefree", vocab: 270, dim: 4, relu2: false));

        // Every value type, arrays of several element types and an explicit alignment, with one tensor of each small type.
        var all = new GgufWriter { Alignment = 64 }
            .Add("general.architecture", "qwen3")
            .Add("general.alignment", 64u)
            .Add("u32", 7u)
            .Add("i32", GgufValue.Of(-7))
            .Add("u64", GgufValue.Of(1UL << 40))
            .Add("f32", 0.5f)
            .Add("flag", true)
            .Add("strings", GgufValue.Of(["a", "", "<|im_start|>"]))
            .Add("ints", GgufValue.Of([1, -2, 3]))
            .Add("floats", GgufValue.Of([0.25f, -1f]));
        all.AddTensor("token_embd.weight", GgmlType.F32, [4, 2], new byte[32]);
        all.AddTensor("f16", GgmlType.F16, [8], new byte[16]);
        Save(directory, "value-types.gguf", all);

        // Header only: counts of zero.
        Save(directory, "empty.gguf", new GgufWriter());
    }

    private static GgufWriter Model(string arch, int vocab, int dim, bool relu2)
    {
        var w = new GgufWriter()
            .Add("general.architecture", arch)
            .Add("general.name", $"fuzz-seed-{arch}")
            .Add($"{arch}.context_length", 64u)
            .Add($"{arch}.embedding_length", (uint)dim)
            .Add($"{arch}.block_count", 1u)
            .Add($"{arch}.feed_forward_length", (uint)(dim * 2))
            .Add($"{arch}.attention.head_count", 2u)
            .Add($"{arch}.attention.head_count_kv", 1u)
            .Add($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f)
            .Add($"{arch}.rope.freq_base", 10000f)
            .Add($"{arch}.rope.dimension_count", (uint)(dim / 2));
        if (relu2)
        {
            w.Add($"{arch}.hidden_act", "relu2");
        }

        TokenizerMetadata.WriteDefaultSmallVocabulary(w, vocab);
        w.AddTensor("token_embd.weight", GgmlType.F32, [dim, vocab], new byte[dim * vocab * 4]);
        w.AddTensor("output_norm.weight", GgmlType.F32, [dim], new byte[dim * 4]);
        return w;
    }

    private static void Save(string directory, string name, GgufWriter writer)
    {
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        File.WriteAllBytes(Path.Combine(directory, name), stream.ToArray());
        Console.WriteLine($"wrote {name} ({stream.Length} bytes)");
    }
}
