using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Tests.Tokenization;

/// <summary>Writes vocabularies to real GGUF files and loads them back, as a synthetic model would be.</summary>
internal static class SmallVocabulary
{
    private static readonly Lazy<Tokenizer> Default = new(() => LoadVia(w => TokenizerMetadata.WriteDefaultSmallVocabulary(w)));

    public static Tokenizer Tokenizer => Default.Value;

    public static Tokenizer LoadVia(Action<GgufWriter> write)
    {
        var path = TestPaths.TempFile();
        try
        {
            var writer = new GgufWriter().Add("general.architecture", "bitnet");
            write(writer);
            writer.WriteTo(path);
            using var gguf = GgufFile.Open(path);
            return Tokenizer.FromGguf(gguf.Metadata);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
