using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Tests.Tokenization;

public sealed class RoundTripTests
{
    public static TheoryData<string> Vocabularies() => ["gpt-2", "falcon", "phi-3", "small"];

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void DecodeEncode_SampleTexts_ReturnsOriginal(string vocab)
    {
        var tokenizer = Load(vocab);
        foreach (var text in SampleTexts.All)
        {
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addSpecial: false)));
        }
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void DecodeSkipSpecial_EncodedWithBosAndEos_ReturnsOriginal(string vocab)
    {
        var tokenizer = Load(vocab);
        foreach (var text in SampleTexts.All)
        {
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addSpecial: true), skipSpecial: true));
        }
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void DecodeEncode_TextWithSpecialTokens_ReturnsOriginal(string vocab)
    {
        var tokenizer = Load(vocab);
        var special = Enumerable.Range(0, tokenizer.VocabSize).Last(tokenizer.IsSpecial);
        var text = $"{tokenizer.TokenText(special)}user\nHello there{tokenizer.TokenText(special)} and more";
        var ids = tokenizer.Encode(text, addSpecial: false);
        Assert.Equal(2, ids.Count(id => id == special));
        Assert.Equal(text, tokenizer.Decode(ids));
    }

    internal static Tokenizer Load(string vocab) => vocab == "small" ? SmallVocabulary.Tokenizer : VocabTestCases.Load(vocab);
}
