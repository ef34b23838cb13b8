using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Tests.Tokenization;

public sealed class ConformanceTests
{
    [Theory]
    [InlineData("gpt-2")]
    [InlineData("falcon")]
    [InlineData("phi-3")]
    public void Encode_LlamaCppTestCases_MatchExpectedIds(string vocab)
    {
        var tokenizer = VocabTestCases.Load(vocab);
        var failures = new List<string>();
        var cases = VocabTestCases.Cases(vocab);
        Assert.Equal(46, cases.Count);
        foreach (var (text, expected) in cases)
        {
            var actual = tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
            if (!actual.SequenceEqual(expected))
            {
                failures.Add($"{Escape(text)}\n  expected {string.Join(' ', expected)}\n  actual   {string.Join(' ', actual)}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases differ:\n" + string.Join("\n", failures));
    }

    [Theory]
    [InlineData("gpt-2")]
    [InlineData("falcon")]
    [InlineData("phi-3")]
    public void Decode_LlamaCppTestCases_RoundTripText(string vocab)
    {
        var tokenizer = VocabTestCases.Load(vocab);
        foreach (var (text, expected) in VocabTestCases.Cases(vocab))
        {
            Assert.Equal(text, tokenizer.Decode(expected));
        }
    }

    private static string Escape(string s) => s.Replace("\n", "\\n").Replace("\t", "\\t").Replace("\r", "\\r");
}
