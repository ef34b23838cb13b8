using WrinkleFree.Reference;
using Xunit.Abstractions;

namespace WrinkleFree.Inference.Tests.Reference;

[Collection(TinyLlamaReferenceCollection.Name)]
public sealed class LlamaCppReferenceTests(TinyLlamaReferenceFixture fixture, ITestOutputHelper output)
{
    // "The quick brown fox jumps over the lazy dog." in gpt-2 ids.
    private static readonly int[] Sentence = [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13];

    private LlamaCppReference Reference => fixture.Reference;

    [Fact]
    public void Load_TinyLlama_ReportsArchitectureAndVocabulary()
    {
        Assert.Equal("llama", Reference.Architecture);
        Assert.Equal(50257, Reference.VocabSize);
        Assert.Equal(TinyLlamaGguf.ContextLength, Reference.ContextSize);
    }

    [Fact]
    public void BuildInfo_AfterLoad_NamesCommitAndCpuFeatures()
    {
        var info = LlamaCppReference.BuildInfo;
        // Logged so a test run records which native variant (AVX level) LLamaSharp chose on this machine.
        output.WriteLine(info);
        Assert.Contains("815a2a591", info);
        Assert.Contains("CPU", info);
    }

    [Fact]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        var path = TestPaths.TempFile();
        Assert.Throws<FileNotFoundException>(() => LlamaCppReference.Load(path, threads: 1));
    }

    [Fact]
    public void Logits_Sentence_OneFiniteVocabRowPerToken()
    {
        var rows = Reference.Logits(Sentence);
        Assert.Equal(Sentence.Length, rows.Length);
        foreach (var row in rows)
        {
            Assert.Equal(Reference.VocabSize, row.Length);
            Assert.All(row, v => Assert.True(float.IsFinite(v)));
        }

        // Random weights still give distinct rows; identical rows would mean the positions were not all computed.
        Assert.NotEqual(rows[0], rows[^1]);
    }

    [Fact]
    public void Logits_Prefix_MatchesFirstRowsOfLongerSequence()
    {
        // 100 tokens span two batches of 64, so this also covers positions carried across batches.
        var longer = new int[100];
        for (var i = 0; i < longer.Length; i++)
        {
            longer[i] = Sentence[i % Sentence.Length] + i;
        }

        var full = Reference.Logits(longer);
        var prefix = Reference.Logits(longer[..7]);
        for (var p = 0; p < prefix.Length; p++)
        {
            LogitAssert.Close(prefix[p], full[p], p);
        }
    }

    [Fact]
    public void Logits_AfterGreedy_StartsFromEmptyCache()
    {
        var before = Reference.Logits(Sentence[..4]);
        Reference.Greedy(Sentence, 5);
        var after = Reference.Logits(Sentence[..4]);
        for (var p = 0; p < before.Length; p++)
        {
            Assert.Equal(before[p], after[p]);
        }
    }

    [Fact]
    public void Greedy_SamePrompt_IsDeterministicAndStartsWithArgMaxOfLastLogits()
    {
        var first = Reference.Greedy(Sentence, 8);
        var second = Reference.Greedy(Sentence, 8);
        Assert.Equal(8, first.Length);
        Assert.Equal(first, second);
        var last = Reference.Logits(Sentence)[^1];
        Assert.Equal(LogitAssert.ArgMax(last), first[0]);
    }

    [Fact]
    public void Greedy_ExtendedPrompt_ContinuesTheSameWay()
    {
        // Feeding back the first greedy token must reproduce the rest of the continuation (KV cache and positions agree).
        var continuation = Reference.Greedy(Sentence, 4);
        var extended = Reference.Greedy([.. Sentence, continuation[0]], 3);
        Assert.Equal(continuation[1..], extended);
    }

    [Fact]
    public void Logits_TokenOutsideVocabulary_ThrowsNamingTheIndex()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Reference.Logits([1, 2, Reference.VocabSize]));
        Assert.Contains("index 2", ex.Message);
    }

    [Fact]
    public void Logits_LongerThanContext_Throws()
    {
        Assert.Throws<ArgumentException>(() => Reference.Logits(new int[Reference.ContextSize + 1]));
    }

    [Fact]
    public void Measure_SmallRun_ReturnsPositiveFiniteRates()
    {
        var (prefill, decode) = Reference.Measure(promptTokens: 16, decodeTokens: 4, seed: 7, repetitions: 1);
        Assert.True(double.IsFinite(prefill) && prefill > 0, $"prefill {prefill}");
        Assert.True(double.IsFinite(decode) && decode > 0, $"decode {decode}");
    }
}
