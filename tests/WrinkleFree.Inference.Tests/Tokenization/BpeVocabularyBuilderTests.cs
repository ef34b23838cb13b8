using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Tests.Tokenization;

public sealed class BpeVocabularyBuilderTests
{
    [Fact]
    public void Train_SameCorpusTwice_IsIdentical()
    {
        var a = BpeVocabularyBuilder.Train(TokenizerTestData.CorpusText, 600);
        var b = BpeVocabularyBuilder.Train(TokenizerTestData.CorpusText, 600);
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.Merges, b.Merges);
        Assert.Equal(600, a.Tokens.Length);
    }

    [Fact]
    public void Train_Result_StartsWithBytesAndHasOnlyValidMerges()
    {
        var (tokens, merges) = BpeVocabularyBuilder.Train(TokenizerTestData.CorpusText, 512);
        Assert.Equal("Ġ", tokens[' ']);
        Assert.Equal("A", tokens['A']);
        Assert.Equal("Ċ", tokens['\n']);
        var set = tokens.ToHashSet(StringComparer.Ordinal);
        Assert.Equal(tokens.Length, set.Count);
        foreach (var merge in merges)
        {
            var parts = merge.Split(' ');
            Assert.Equal(2, parts.Length);
            Assert.Contains(parts[0], set);
            Assert.Contains(parts[1], set);
            Assert.Contains(parts[0] + parts[1], set);
        }
    }

    [Fact]
    public void DefaultSmallVocabulary_1024_ExactSizeWithSpecialsLast()
    {
        var (tokens, _) = BpeVocabularyBuilder.DefaultSmallVocabulary(1024);
        Assert.Equal(1024, tokens.Length);
        Assert.Equal(BpeVocabularyBuilder.DefaultSpecialTokens, tokens[^7..]);
        Assert.Equal(tokens, BpeVocabularyBuilder.DefaultSmallVocabulary(1024).Tokens);
    }

    [Fact]
    public void DefaultSmallVocabulary_LargerThanCorpusSupports_PadsWithReservedTokens()
    {
        var (tokens, merges) = BpeVocabularyBuilder.DefaultSmallVocabulary(8192);
        Assert.Equal(8192, tokens.Length);
        Assert.Contains("<|reserved_0|>", tokens);
        Assert.True(merges.Length > 700);
    }

    [Fact]
    public void SmallTokenizer_EnglishText_CompressesAndRoundTrips()
    {
        var tokenizer = SmallVocabulary.Tokenizer;
        var text = TokenizerTestData.CorpusText;
        var ids = tokenizer.Encode(text, addSpecial: false);
        Assert.True(ids.Length * 3 < text.Length, $"{ids.Length} tokens for {text.Length} characters");
        Assert.Single(tokenizer.Encode(" the", addSpecial: false));
        Assert.Equal(text, tokenizer.Decode(ids));
    }

    [Fact]
    public void WriteDefaultSmallVocabulary_Gguf_HasLlamaCppKeys()
    {
        var path = TestPaths.TempFile();
        try
        {
            var writer = new GgufWriter();
            TokenizerMetadata.WriteDefaultSmallVocabulary(writer, 512);
            writer.WriteTo(path);
            using var gguf = GgufFile.Open(path);
            var m = gguf.Metadata;
            Assert.Equal("gpt2", m.GetString("tokenizer.ggml.model"));
            Assert.Equal("gpt-2", m.GetString("tokenizer.ggml.pre"));
            Assert.Equal(512, m.GetArray<string>("tokenizer.ggml.tokens")!.Length);
            Assert.Equal(GgufValueType.Int32, m["tokenizer.ggml.token_type"].ElementType);
            Assert.Equal(GgufValueType.UInt32, m["tokenizer.ggml.bos_token_id"].Type);
            Assert.Equal(7, m.GetArray<int>("tokenizer.ggml.token_type")!.Count(t => t == 3));
            Assert.True(m.GetBool("tokenizer.ggml.add_bos_token", false));
            Assert.Equal(505, m.GetInteger("tokenizer.ggml.bos_token_id"));
            Assert.Equal(507, m.GetInteger("tokenizer.ggml.eot_token_id"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Write_InvalidMerge_ThrowsNamingIt()
    {
        var (tokens, merges) = BpeVocabularyBuilder.Train(TokenizerTestData.CorpusText, 300);
        var bad = merges.Append("Ġ zzzz").ToArray();
        var e = Assert.Throws<ArgumentException>(() =>
            TokenizerMetadata.Write(new GgufWriter(), tokens, bad, new int[tokens.Length], "gpt-2", 0, 0));
        Assert.Contains("Ġ zzzz", e.Message);
    }
}
