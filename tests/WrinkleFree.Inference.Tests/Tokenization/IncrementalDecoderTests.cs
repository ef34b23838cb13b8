using System.Text;

namespace WrinkleFree.Inference.Tests.Tokenization;

public sealed class IncrementalDecoderTests
{
    [Theory]
    [MemberData(nameof(RoundTripTests.Vocabularies), MemberType = typeof(RoundTripTests))]
    public void Push_SampleTexts_PiecesAreWholeAndJoinToDecode(string vocab)
    {
        var tokenizer = RoundTripTests.Load(vocab);
        foreach (var text in SampleTexts.All)
        {
            var ids = tokenizer.Encode(text, addSpecial: true);
            var decoder = tokenizer.CreateDecoder(skipSpecial: true);
            var joined = new StringBuilder();
            foreach (var id in ids)
            {
                var piece = decoder.Push(id);
                Assert.DoesNotContain('\uFFFD', piece);
                Assert.True(piece.Length == 0 || (!char.IsLowSurrogate(piece[0]) && !char.IsHighSurrogate(piece[^1])), $"split surrogate in '{piece}'");
                joined.Append(piece);
            }

            joined.Append(decoder.Flush());
            Assert.Equal(tokenizer.Decode(ids, skipSpecial: true), joined.ToString());
            Assert.Equal(text, joined.ToString());
        }
    }

    [Theory]
    [InlineData("gpt-2", "🦙")]
    [InlineData("gpt-2", "漢")]
    [InlineData("phi-3", "🦙")]
    [InlineData("small", "日本")]
    public void Push_CharacterSplitAcrossTokens_HoldsBytesUntilComplete(string vocab, string text)
    {
        var tokenizer = RoundTripTests.Load(vocab);
        var ids = tokenizer.Encode(text, addSpecial: false);
        Assert.True(ids.Length > 1, "the test needs a character that spans several tokens");
        var decoder = tokenizer.CreateDecoder();
        var pieces = ids.Select(decoder.Push).ToList();
        Assert.Equal("", pieces[0]);
        Assert.Equal(text, string.Concat(pieces));
        Assert.Equal("", decoder.Flush());
    }

    [Fact]
    public void Flush_IncompleteSequence_EmitsReplacementLikeDecode()
    {
        var tokenizer = RoundTripTests.Load("gpt-2");
        var first = tokenizer.Encode("🦙", addSpecial: false)[0];
        var decoder = tokenizer.CreateDecoder();
        Assert.Equal("", decoder.Push(first));
        Assert.Equal(tokenizer.Decode([first]), decoder.Flush());
        Assert.Contains('\uFFFD', tokenizer.Decode([first]));
    }

    [Fact]
    public void Push_SpecialTokens_RenderedUnlessSkipped()
    {
        var tokenizer = RoundTripTests.Load("small");
        var ids = tokenizer.Encode("<|im_start|>Hi<|im_end|>", addSpecial: false);
        var keep = tokenizer.CreateDecoder();
        var skip = tokenizer.CreateDecoder(skipSpecial: true);
        Assert.Equal("<|im_start|>Hi<|im_end|>", string.Concat(ids.Select(keep.Push)) + keep.Flush());
        Assert.Equal("Hi", string.Concat(ids.Select(skip.Push)) + skip.Flush());
    }
}
