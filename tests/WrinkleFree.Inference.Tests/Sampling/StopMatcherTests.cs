using System.Text;
using WrinkleFree.Inference.Sampling;

namespace WrinkleFree.Inference.Tests.Sampling;

public sealed class StopMatcherTests
{
    [Fact]
    public void Push_NoStops_EmitsEverything()
    {
        var matcher = new StopMatcher([]);
        Assert.Equal(new StopResult("hello", false), matcher.Push("hello"));
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void Push_StopSplitAcrossPieces_HoldsBackThenStops()
    {
        var matcher = new StopMatcher(["</s>"]);
        Assert.Equal(new StopResult("Hi", false), matcher.Push("Hi<"));
        Assert.Equal(new StopResult("", false), matcher.Push("/"));
        Assert.Equal(new StopResult("", false), matcher.Push("s"));
        Assert.Equal(new StopResult("", true), matcher.Push("> there"));
    }

    [Fact]
    public void Push_StopSplitOverThreePieces_EmitsTextBeforeStopOnly()
    {
        var matcher = new StopMatcher(["STOP"]);
        var emitted = new StringBuilder();
        foreach (var piece in new[] { "one ST", "O", "P two" })
        {
            var result = matcher.Push(piece);
            emitted.Append(result.Emit);
            if (result.Stopped)
            {
                break;
            }
        }

        Assert.Equal("one ", emitted.ToString());
        Assert.True(matcher.Stopped);
        Assert.Equal(new StopResult("", true), matcher.Push("more"));
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void Push_FalseStart_ReleasesHeldText()
    {
        var matcher = new StopMatcher(["STOP"]);
        Assert.Equal(new StopResult("a", false), matcher.Push("aST"));
        Assert.Equal(new StopResult("STOx", false), matcher.Push("Ox"));
        Assert.Equal(new StopResult("", false), matcher.Push("S"));
        Assert.Equal("S", matcher.Flush());
    }

    [Fact]
    public void Push_SelfOverlappingStop_FindsMatchAfterPartialRepeat()
    {
        var matcher = new StopMatcher(["aab"]);
        Assert.Equal(new StopResult("", false), matcher.Push("aa"));
        Assert.Equal(new StopResult("a", false), matcher.Push("a"));
        Assert.Equal(new StopResult("", true), matcher.Push("b"));
    }

    [Fact]
    public void Push_OverlappingPrefixes_ShorterStopWinsAsSoonAsComplete()
    {
        var matcher = new StopMatcher(["abc", "ab"]);
        Assert.Equal(new StopResult("x", false), matcher.Push("xa"));
        Assert.Equal(new StopResult("", true), matcher.Push("b"));
    }

    [Fact]
    public void Push_OverlappingPrefixes_HoldsLongestPossiblePrefix()
    {
        var matcher = new StopMatcher(["abcd", "bc"]);
        Assert.Equal(new StopResult("x", false), matcher.Push("xab"));
        Assert.Equal(new StopResult("a", true), matcher.Push("c"));

        matcher = new StopMatcher(["abcd", "bc"]);
        Assert.Equal(new StopResult("x", false), matcher.Push("xab"));
        Assert.Equal(new StopResult("abx", false), matcher.Push("x"));
    }

    [Fact]
    public void Push_EarliestStopInPiece_Wins()
    {
        var matcher = new StopMatcher(["zz", "y"]);
        Assert.Equal(new StopResult("ab", true), matcher.Push("abyzz"));
        matcher = new StopMatcher(["zz", "y"]);
        Assert.Equal(new StopResult("ab", true), matcher.Push("abzzy"));
    }

    [Fact]
    public void Push_StopAtVeryStart_EmitsNothing()
    {
        var matcher = new StopMatcher(["\n\n"]);
        Assert.Equal(new StopResult("", true), matcher.Push("\n\nanswer"));
    }

    [Fact]
    public void Push_MultibyteText_MatchesAndNeverSplitsSurrogatePairs()
    {
        var matcher = new StopMatcher(["。終"]);
        Assert.Equal(new StopResult("こんにちは", false), matcher.Push("こんにちは。"));
        Assert.Equal(new StopResult("", true), matcher.Push("終わり"));

        // An emoji stop arriving as two halves of a surrogate pair.
        matcher = new StopMatcher(["😀"]);
        Assert.Equal(new StopResult("café ", false), matcher.Push("café \uD83D"));
        Assert.Equal(new StopResult("", true), matcher.Push("\uDE00!"));

        // No stop can start with a low surrogate, but a dangling high surrogate is still held for its partner.
        matcher = new StopMatcher(["zz"]);
        Assert.Equal(new StopResult("a", false), matcher.Push("a\uD83D"));
        Assert.Equal(new StopResult("😀b", false), matcher.Push("\uDE00b"));
    }

    [Fact]
    public void Flush_AtEnd_ReturnsHeldBackText()
    {
        var matcher = new StopMatcher(["###"]);
        Assert.Equal(new StopResult("answer", false), matcher.Push("answer##"));
        Assert.Equal("##", matcher.Flush());
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void Ctor_EmptyStop_Throws()
    {
        Assert.Equal("stops", Assert.Throws<ArgumentException>(() => new StopMatcher(["ok", ""])).ParamName);
    }
}
