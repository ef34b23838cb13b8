using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Tests.Tokenization;

public sealed class PreTokenizerTests
{
    [Theory]
    [InlineData("llama-bpe", "12345 abc", new[] { "123", "45", " abc" })]
    [InlineData("llama3", "Hello  world", new[] { "Hello", " ", " world" })]
    [InlineData("llama3", "I'M here, we'Ll", new[] { "I", "'M", " here", ",", " we", "'Ll" })]
    [InlineData("llama3", "(hello)\n\nnext", new[] { "(hello", ")\n\n", "next" })]
    [InlineData("llama3", "a \n\n b", new[] { "a", " \n\n", " b" })]
    [InlineData("llama3", "😀abc", new[] { "😀abc" })]
    [InlineData("qwen2", "x=12345", new[] { "x", "=", "1", "2", "3", "4", "5" })]
    [InlineData("gpt-2", "😀abc", new[] { "😀", "abc" })]
    [InlineData("gpt-2", "𝐀𝐁c 𝟏𝟐", new[] { "𝐀𝐁c", " 𝟏𝟐" })]
    [InlineData("gpt-2", "I'M ok  \n", new[] { "I", "'", "M", " ok", "  \n" })]
    [InlineData("falcon", "x1234567,y", new[] { "x", "123", "456", "7", ",", "y" })]
    [InlineData("default", "a,b 12345", new[] { "a", ",", "b", " ", "123", "45" })]
    public void Split_KnownPreTokenizers_MatchLlamaCppWords(string pre, string text, string[] expected)
    {
        var words = new List<Range>();
        PreTokenizer.ForName(pre)!.Split(text, words);
        Assert.Equal(expected, words.Select(r => text[r]).ToArray());
    }

    [Fact]
    public void ForName_UnknownName_ReturnsNull() => Assert.Null(PreTokenizer.ForName("no-such-pre"));
}
