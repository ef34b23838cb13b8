using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Tests.Tokenization;

public sealed class SpecialTokenTests
{
    [Fact]
    public void Encode_ParseSpecial_ControlTextsBecomeIds()
    {
        var tokenizer = SmallVocabulary.Tokenizer;
        var ids = tokenizer.Encode("<|im_start|>user\nHi there<|im_end|>");
        Assert.Equal(tokenizer.BosId, ids[0]);
        Assert.Equal(Id(tokenizer, "<|im_start|>"), ids[1]);
        Assert.Equal(Id(tokenizer, "<|im_end|>"), ids[^1]);
        Assert.All(ids[2..^1], id => Assert.False(tokenizer.IsSpecial(id)));
    }

    [Fact]
    public void Encode_NoParseSpecial_ControlTextsStayText()
    {
        var tokenizer = SmallVocabulary.Tokenizer;
        const string text = "<|im_start|>user<|eot_id|>";
        var ids = tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
        Assert.DoesNotContain(ids, tokenizer.IsSpecial);
        Assert.Equal(text, tokenizer.Decode(ids));
    }

    [Fact]
    public void Encode_OverlappingSpecialTexts_LongestWins()
    {
        var tokens = Enumerable.Range(0, 256).Select(b => TokenTextOfByte(b)).Concat(["<|x|>", "<|x|>y", "<|end|>"]).ToArray();
        var types = tokens.Select((_, i) => i >= 256 ? 3 : 1).ToArray();
        var tokenizer = SmallVocabulary.LoadVia(w => TokenizerMetadata.Write(w, tokens, [], types, "gpt-2", bos: 256, eos: 258, addBos: false));
        Assert.Equal([257, 256, 'a' - 0, 258], tokenizer.Encode("<|x|>y<|x|>a<|end|>"));
        Assert.False(tokenizer.AddBos);
    }

    [Fact]
    public void Decode_SkipSpecial_DropsControlTokens()
    {
        var tokenizer = SmallVocabulary.Tokenizer;
        var ids = tokenizer.Encode("<|start_header_id|>assistant<|end_header_id|>\n\nOK<|eot_id|>");
        Assert.Equal("assistant\n\nOK", tokenizer.Decode(ids, skipSpecial: true));
        Assert.Equal("<|begin_of_text|><|start_header_id|>assistant<|end_header_id|>\n\nOK<|eot_id|>", tokenizer.Decode(ids));
    }

    [Fact]
    public void FromGguf_DefaultSmallVocabulary_ReadsIdsFlagsAndTemplate()
    {
        var tokenizer = SmallVocabulary.Tokenizer;
        Assert.Equal(1024, tokenizer.VocabSize);
        Assert.Equal(Id(tokenizer, "<|begin_of_text|>"), tokenizer.BosId);
        Assert.Equal(Id(tokenizer, "<|end_of_text|>"), tokenizer.EosId);
        Assert.True(tokenizer.AddBos);
        Assert.False(tokenizer.AddEos);
        Assert.Equal(TokenizerMetadata.DefaultChatTemplate, tokenizer.ChatTemplate);
        var eog = new[] { "<|end_of_text|>", "<|eot_id|>", "<|im_end|>" }.Select(t => Id(tokenizer, t)).ToHashSet();
        Assert.True(eog.SetEquals(tokenizer.EndOfGenerationIds));
    }

    [Fact]
    public void FromGguf_Gpt2_EndOfTextIsBosEosAndEndOfGeneration()
    {
        var tokenizer = VocabTestCases.Load("gpt-2");
        Assert.Equal(50256, tokenizer.BosId);
        Assert.Equal(50256, tokenizer.EosId);
        Assert.False(tokenizer.AddBos);
        Assert.Equal([50256], tokenizer.EndOfGenerationIds.ToArray());
        Assert.True(tokenizer.IsSpecial(50256));
        Assert.Contains(50256, tokenizer.Encode("a<|endoftext|>b"));
        Assert.DoesNotContain(50256, tokenizer.Encode("a<|endoftext|>b", parseSpecial: false));
    }

    [Fact]
    public void FromGguf_Phi3_SentencePieceDefaultsAndEndTokens()
    {
        var tokenizer = VocabTestCases.Load("phi-3");
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal(32000, tokenizer.EosId);
        Assert.True(tokenizer.AddBos);
        Assert.Contains(32007, tokenizer.EndOfGenerationIds); // <|end|>
        Assert.Contains(32000, tokenizer.EndOfGenerationIds); // <|endoftext|>
        Assert.NotNull(tokenizer.ChatTemplate);
        var ids = tokenizer.Encode("<|user|>\nHi<|end|>");
        Assert.Equal([1, 32010], ids[..2]);
        Assert.Equal(32007, ids[^1]);
        Assert.Equal("<|user|>\nHi<|end|>", tokenizer.Decode(ids, skipSpecial: false)[3..]);
    }

    [Fact]
    public void Encode_Phi3UserDefinedToken_SplitEvenWithoutParseSpecial()
    {
        // "</s>" is user-defined (type 4) in this vocabulary; llama.cpp splits those out whatever parse_special says.
        var tokenizer = VocabTestCases.Load("phi-3");
        Assert.Contains(2, tokenizer.Encode("a</s>b", addSpecial: false, parseSpecial: false));
    }

    [Fact]
    public void TokenText_ByteLevelToken_ReturnsRawVocabularyString()
    {
        var tokenizer = VocabTestCases.Load("gpt-2");
        var id = tokenizer.Encode(" Hello", addSpecial: false).Single();
        Assert.Equal("ĠHello", tokenizer.TokenText(id));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.TokenText(tokenizer.VocabSize));
    }

    [Fact]
    public void FromGguf_UnsupportedModelOrPre_ThrowsNamingTheKey()
    {
        var model = Assert.Throws<GgufFormatException>(() => Tokenizer.FromGguf(Metadata(("tokenizer.ggml.model", GgufValue.Of("bert")))));
        Assert.Contains("tokenizer.ggml.model", model.Message);
        var pre = Assert.Throws<GgufFormatException>(() => Tokenizer.FromGguf(Metadata(
            ("tokenizer.ggml.model", GgufValue.Of("gpt2")), ("tokenizer.ggml.pre", GgufValue.Of("no-such-pre")),
            ("tokenizer.ggml.tokens", GgufValue.Of(["a"])), ("tokenizer.ggml.merges", GgufValue.Of(Array.Empty<string>())))));
        Assert.Contains("tokenizer.ggml.pre", pre.Message);
    }

    private static int Id(Tokenizer tokenizer, string text) =>
        Enumerable.Range(0, tokenizer.VocabSize).Single(i => tokenizer.TokenText(i) == text);

    private static string TokenTextOfByte(int b) => BpeVocabularyBuilder.Train("", 256).Tokens[b];

    private static GgufMetadata Metadata(params (string Key, GgufValue Value)[] values) =>
        new(values.Select(v => new KeyValuePair<string, GgufValue>(v.Key, v.Value)));
}
