using WrinkleFree.Reference;

namespace WrinkleFree.Inference.Tests.Reference;

/// <summary>llama.cpp on a tiny TQ2_0 <c>bitnet</c> model: proves the harness handles the architecture the engine targets.</summary>
public sealed class LlamaCppReferenceBitnetTests
{
    private static readonly int[] Sentence = [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13];

    [Fact]
    public void Load_TinyBitnetTq2_GivesFiniteConsistentLogitsAndDeterministicGreedy()
    {
        var path = TinyBitnetGguf.Write(seed: 99);
        try
        {
            using var reference = LlamaCppReference.Load(path, threads: 1, contextSize: TinyBitnetGguf.ContextLength, batchSize: 32);
            Assert.Equal("bitnet", reference.Architecture);
            Assert.Equal(50257, reference.VocabSize);

            var rows = reference.Logits(Sentence);
            Assert.Equal(Sentence.Length, rows.Length);
            Assert.All(rows, row => Assert.All(row, v => Assert.True(float.IsFinite(v))));
            var prefix = reference.Logits(Sentence[..3]);
            for (var p = 0; p < prefix.Length; p++)
            {
                LogitAssert.Close(prefix[p], rows[p], p);
            }

            var greedy = reference.Greedy(Sentence, 4);
            Assert.Equal(greedy, reference.Greedy(Sentence, 4));
            Assert.Equal(LogitAssert.ArgMax(rows[^1]), greedy[0]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
