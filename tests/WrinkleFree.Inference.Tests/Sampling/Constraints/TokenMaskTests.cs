using System.Text;
using WrinkleFree.Inference.Sampling.Constraints;
using WrinkleFree.Inference.Tests.Tokenization;

namespace WrinkleFree.Inference.Tests.Sampling.Constraints;

/// <summary>The trie walk must allow exactly the tokens a token-by-token check allows, on real vocabularies.</summary>
public sealed class TokenMaskTests
{
    [Theory]
    [InlineData("gpt-2", "")]
    [InlineData("gpt-2", "{\"na")]
    [InlineData("gpt-2", "{\"a\": [1, ")]
    [InlineData("gpt-2", "{\"a\": \"caf")]
    [InlineData("phi-3", "{\"a\":")]
    [InlineData("falcon", "{ \"k\": \"\u00e9")]
    public void Apply_JsonObjectGrammar_AllowsExactlyViableTokens(string vocab, string prefix)
    {
        var tokenizer = VocabTestCases.Load(vocab);
        var grammar = JsonSchemaConstraint.JsonObject;
        var constraint = grammar.CreateConstraint(tokenizer);
        var trie = TokenTrie.For(tokenizer);
        var ids = tokenizer.Encode(prefix, addSpecial: false, parseSpecial: false);
        foreach (var id in ids)
        {
            constraint.Accept(id);
        }

        // What the decoder renders for the prefix (SentencePiece drops the leading space it encoded).
        Assert.Equal(prefix, tokenizer.Decode(ids));
        var logits = new float[tokenizer.VocabSize];
        constraint.Apply(logits);
        var allowed = 0;
        for (var id = 0; id < tokenizer.VocabSize; id++)
        {
            var piece = trie.Piece(id);
            var viable = !tokenizer.IsSpecial(id) && piece.Length > 0 && grammar.AcceptsPrefix(prefix + Encoding.UTF8.GetString(piece))
                && Encoding.UTF8.GetString(piece) is var text && Encoding.UTF8.GetByteCount(text) == piece.Length;
            if (float.IsNegativeInfinity(logits[id]) == viable && IsWholeUtf8(piece))
            {
                Assert.Fail($"token {id} '{Encoding.UTF8.GetString(piece)}' after '{prefix}': mask says {(viable ? "forbidden" : "allowed")}");
            }

            allowed += float.IsNegativeInfinity(logits[id]) ? 0 : 1;
        }

        Assert.InRange(allowed, 1, tokenizer.VocabSize - 1);
    }

    [Fact]
    public void Apply_CompleteDocument_AllowsOnlyEndOfGeneration()
    {
        var tokenizer = VocabTestCases.Load("gpt-2");
        var constraint = JsonSchemaConstraint.JsonObject.CreateConstraint(tokenizer);
        foreach (var id in tokenizer.Encode("{\"a\":1}", addSpecial: false, parseSpecial: false))
        {
            constraint.Accept(id);
        }

        Assert.True(constraint.IsComplete);
        var logits = new float[tokenizer.VocabSize];
        constraint.Apply(logits);
        var allowed = Enumerable.Range(0, logits.Length).Where(i => !float.IsNegativeInfinity(logits[i])).ToArray();
        Assert.Equal(tokenizer.EndOfGenerationIds.Order(), allowed);
    }

    [Fact]
    public void Apply_SameStateTwice_ReusesTheCachedMask()
    {
        var tokenizer = VocabTestCases.Load("gpt-2");
        var grammar = Grammar.Parse("root ::= \"[\" [0-9]* \"]\"");
        var logits = new float[tokenizer.VocabSize];
        var first = grammar.CreateConstraint(tokenizer);
        first.Apply(logits);
        var computed = grammar.MasksComputed;
        grammar.CreateConstraint(tokenizer).Apply(logits);
        Assert.Equal(computed, grammar.MasksComputed);
    }

    [Fact]
    public void Apply_LongString_StaysInOneStateWithOneMask()
    {
        // Right recursion is a tail call: every character of a string leaves the matcher in the same state.
        var tokenizer = VocabTestCases.Load("gpt-2");
        var grammar = Grammar.Parse("root ::= \"{\\\"k\\\": \\\"\" [a-z ]* \"\\\"}\"");
        var constraint = grammar.CreateConstraint(tokenizer);
        var logits = new float[tokenizer.VocabSize];
        foreach (var id in tokenizer.Encode("{\"k\": \"", addSpecial: false, parseSpecial: false))
        {
            constraint.Apply(logits);
            constraint.Accept(id);
        }

        var before = grammar.MasksComputed;
        var word = tokenizer.Encode(" hello", addSpecial: false, parseSpecial: false);
        for (var i = 0; i < 500; i++)
        {
            constraint.Apply(logits);
            constraint.Accept(word[i % word.Length]);
        }

        Assert.Equal(before + 1, grammar.MasksComputed);
        Assert.True(grammar.Accepts("{\"k\": \"" + new string('a', 100_000) + "\"}"));
    }

    // Tokens that end inside a multi-byte character are checked by the automaton's prefix pruning, not by text.
    private static bool IsWholeUtf8(ReadOnlySpan<byte> piece)
    {
        try
        {
            _ = new UTF8Encoding(false, true).GetString(piece);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
