using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tests.Gguf;

public sealed class GgufFileTests
{
    [Fact]
    public void Open_RealVocabularyFile_ReadsMetadata()
    {
        using var gguf = GgufFile.Open(Path.Combine(TestPaths.Tokenizers, "ggml-vocab-gpt-2.gguf"));
        Assert.Equal("gpt2", gguf.Architecture);
        Assert.Equal(50257, gguf.Metadata.GetArray<string>("tokenizer.ggml.tokens")!.Length);
        Assert.Equal(50000, gguf.Metadata.GetArray<string>("tokenizer.ggml.merges")!.Length);
        Assert.Equal(50256, gguf.Metadata.GetInteger("tokenizer.ggml.bos_token_id"));
        Assert.Empty(gguf.Tensors);
    }

    [Fact]
    public void WriteThenOpen_RoundTripsMetadataAndTensors()
    {
        var path = TestPaths.TempFile();
        var data = new byte[4 * 6];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (byte)i;
        }

        new GgufWriter()
            .Add("general.architecture", "test")
            .Add("test.count", 7u)
            .Add("test.eps", 1e-5f)
            .Add("test.flag", true)
            .Add("test.tokens", GgufValue.Of(["a", "b", "c"]))
            .AddTensor("w", GgmlType.F32, [3, 2], data)
            .AddTensor("v", GgmlType.F32, [1], new byte[4])
            .WriteTo(path);
        using var gguf = GgufFile.Open(path);
        Assert.Equal(7, gguf.Metadata.GetInteger("test.count"));
        Assert.Equal(1e-5, gguf.Metadata.GetFloat("test.eps"), 6);
        Assert.True(gguf.Metadata.GetBool("test.flag", false));
        Assert.Equal(["a", "b", "c"], gguf.Metadata.GetArray<string>("test.tokens")!);
        var w = gguf.GetTensor("w");
        Assert.Equal([3L, 2L], w.Shape);
        Assert.Equal(0, w.FileOffset % 32);
        Assert.Equal(data, gguf.GetSpan(w).ToArray());
    }
}
