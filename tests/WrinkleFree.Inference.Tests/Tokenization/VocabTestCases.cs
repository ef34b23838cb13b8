using System.Text;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Tests.Tokenization;

/// <summary>Loads the llama.cpp vocabulary files and their .inp/.out test cases from tests/data/tokenizers.</summary>
internal static class VocabTestCases
{
    private static readonly Dictionary<string, Tokenizer> Loaded = [];

    public static Tokenizer Load(string name)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(name, out var tokenizer))
            {
                using var gguf = GgufFile.Open(PathOf(name));
                tokenizer = Tokenizer.FromGguf(gguf.Metadata);
                Loaded[name] = tokenizer;
            }

            return tokenizer;
        }
    }

    public static GgufMetadata Metadata(string name)
    {
        using var gguf = GgufFile.Open(PathOf(name));
        return gguf.Metadata;
    }

    /// <summary>(input, expected ids) pairs; inputs are the exact bytes between separator lines.</summary>
    public static List<(string Text, int[] Ids)> Cases(string name)
    {
        var input = Encoding.UTF8.GetString(File.ReadAllBytes(PathOf(name) + ".inp"));
        var texts = input.Split("\n__ggml_vocab_test__\n");
        var lines = File.ReadAllLines(PathOf(name) + ".out", Encoding.UTF8);
        // The file ends with a separator followed by a newline, which leaves one empty trailing element.
        var count = lines.Length;
        Assert.True(texts.Length >= count, $"{name}: {texts.Length} inputs for {count} outputs");
        var cases = new List<(string, int[])>(count);
        for (var i = 0; i < count; i++)
        {
            var ids = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            cases.Add((texts[i], ids));
        }

        return cases;
    }

    private static string PathOf(string name) => Path.Combine(TestPaths.Tokenizers, $"ggml-vocab-{name}.gguf");
}
