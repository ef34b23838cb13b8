using WrinkleFree.Inference.Sampling.Constraints;

namespace WrinkleFree.Inference.Tests.Sampling.Constraints;

public sealed class GbnfParserTests
{
    [Theory]
    [InlineData("root ::= \"a\" | \"b\"", "a", true)]
    [InlineData("root ::= \"a\" | \"b\"", "c", false)]
    [InlineData("root ::= \"ab\"+", "ababab", true)]
    [InlineData("root ::= \"ab\"+", "", false)]
    [InlineData("root ::= [a-c]*", "", true)]
    [InlineData("root ::= [a-c]*", "abcabc", true)]
    [InlineData("root ::= [a-c]*", "abd", false)]
    [InlineData("root ::= [^a-c]", "d", true)]
    [InlineData("root ::= [^a-c]", "b", false)]
    [InlineData("root ::= [^a-c]", "é", true)]
    [InlineData("root ::= \"x\"?", "", true)]
    [InlineData("root ::= \"x\"{2,3}", "x", false)]
    [InlineData("root ::= \"x\"{2,3}", "xx", true)]
    [InlineData("root ::= \"x\"{2,3}", "xxx", true)]
    [InlineData("root ::= \"x\"{2,3}", "xxxx", false)]
    [InlineData("root ::= \"x\"{2}", "xx", true)]
    [InlineData("root ::= \"x\"{2,}", "xxxxxx", true)]
    [InlineData("root ::= ( \"a\" | \"b\" ) \"c\"", "bc", true)]
    [InlineData("root ::= .+", "any thing ✓", true)]
    [InlineData("root ::= \"\\n\\t\\\"\\\\\"", "\n\t\"\\", true)]
    [InlineData("root ::= \"\\x41\\u00e9\\U0001F600\"", "Aé😀", true)]
    [InlineData("root ::= [\\]\\[]+", "[]", true)]
    [InlineData("root ::= [é-ü]", "ö", true)]
    [InlineData("root ::= [é-ü]", "e", false)]
    public void Accepts_Grammar_MatchesWholeText(string gbnf, string text, bool expected)
    {
        Assert.Equal(expected, Grammar.Parse(gbnf).Accepts(text));
    }

    [Fact]
    public void Parse_MultiLineGrammarWithCommentsAndRefs_Matches()
    {
        const string gbnf = """
            # a list of numbers
            root ::= "[" ws ( num ( "," ws num )* )? "]"   # trailing comment
            num  ::=
              "-"? [0-9]+
            ws   ::= [ ]*
            kind ::= "a"
                   | "b"
            """;
        var g = Grammar.Parse(gbnf);
        Assert.True(g.Accepts("[1, -22,3]"));
        Assert.True(g.Accepts("[]"));
        Assert.False(g.Accepts("[1,]"));
        Assert.True(g.AcceptsPrefix("[1, -"));
        Assert.False(g.AcceptsPrefix("[1, x"));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("root ::= foo", "'foo' is used but never defined")]
    [InlineData("start ::= \"a\"", "no 'root' rule")]
    [InlineData("root ::= \"a", "unterminated string")]
    [InlineData("root ::= [a-", "unterminated character class")]
    [InlineData("root ::= ( \"a\"", "missing ')'")]
    [InlineData("root ::= * \"a\"", "must follow an element")]
    [InlineData("root ::= \"a\"{3,2}", "max < min")]
    [InlineData("root ::= \"a\"{99999}", "at most")]
    [InlineData("root ::= \"\\q\"", "unknown escape")]
    [InlineData("root \"a\"", "expected '::='")]
    [InlineData("root ::= \"a\"\nroot ::= \"b\"", "defined twice")]
    [InlineData("root ::= root \"a\" | \"b\"", "left-recursive")]
    [InlineData("root ::= e root | \"x\"\ne ::= \"\"?", "left-recursive")]
    [InlineData("root ::= [z-a]", "reversed")]
    [InlineData("root ::= \"a\" )", "unexpected ')'")]
    public void Parse_BadGrammar_ThrowsNamingProblem(string gbnf, string expected)
    {
        var e = Assert.Throws<GrammarException>(() => Grammar.Parse(gbnf));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Error_NamesLineAndColumn()
    {
        var e = Assert.Throws<GrammarException>(() => Grammar.Parse("root ::= a\na ::= \"x\" @"));
        Assert.Contains("line 2, column 11", e.Message, StringComparison.Ordinal);
    }
}
