using WrinkleFree.Inference.Sampling;

namespace WrinkleFree.Inference.Tests.Sampling;

public sealed class CandidateKeysTests
{
    [Theory]
    [InlineData(0f)]
    [InlineData(-1e-30f)]
    [InlineData(1.5f)]
    [InlineData(-1.5f)]
    [InlineData(float.MaxValue)]
    [InlineData(float.NegativeInfinity)]
    [InlineData(float.Epsilon)]
    public void Encode_RoundTrips(float logit)
    {
        var key = CandidateKeys.Encode(logit, 151_935);
        Assert.Equal(151_935, CandidateKeys.Id(key));
        Assert.Equal(BitConverter.SingleToInt32Bits(logit), BitConverter.SingleToInt32Bits(CandidateKeys.Logit(key)));
    }

    [Fact]
    public void Encode_Order_IsHigherLogitThenLowerId()
    {
        Assert.True(CandidateKeys.Encode(2f, 9) < CandidateKeys.Encode(1f, 0));
        Assert.True(CandidateKeys.Encode(-1f, 9) < CandidateKeys.Encode(-2f, 0));
        Assert.True(CandidateKeys.Encode(1f, 3) < CandidateKeys.Encode(1f, 4));
        Assert.True(CandidateKeys.Encode(0f, 0) < CandidateKeys.Encode(float.NegativeInfinity, 0));
    }

    [Theory]
    [InlineData(1000, 1)]
    [InlineData(1000, 40)]
    [InlineData(1000, 999)]
    [InlineData(5000, 2500)]
    public void SelectSmallest_RandomAndSorted_MatchesFullSort(int n, int k)
    {
        var random = new Random(n + k);
        foreach (var pattern in new[] { "random", "ascending", "descending", "few-values" })
        {
            var keys = new ulong[n];
            for (var i = 0; i < n; i++)
            {
                var logit = pattern switch
                {
                    "random" => (float)random.NextDouble(),
                    "ascending" => i,
                    "descending" => -i,
                    _ => random.Next(3),
                };
                keys[i] = CandidateKeys.Encode(logit, i);
            }

            var expected = (ulong[])keys.Clone();
            Array.Sort(expected);
            CandidateKeys.SelectSmallest(keys, k);
            var head = keys[..k];
            Array.Sort(head);
            Assert.Equal(expected[..k], head);
        }
    }

    [Theory]
    [InlineData(1000, 1)]
    [InlineData(1000, 40)]
    [InlineData(1000, 1000)]
    [InlineData(10, 40)]
    public void SelectBest_Patterns_MatchesFullSort(int n, int k)
    {
        var random = new Random(n + k);
        foreach (var pattern in new[] { "random", "ascending", "descending", "few-values" })
        {
            var logits = new float[n];
            for (var i = 0; i < n; i++)
            {
                logits[i] = pattern switch
                {
                    "random" => (float)random.NextDouble(),
                    "ascending" => i,
                    "descending" => -i,
                    _ => random.Next(3),
                };
            }

            var expected = new ulong[n];
            for (var i = 0; i < n; i++)
            {
                expected[i] = CandidateKeys.Encode(logits[i], i);
            }

            Array.Sort(expected);
            var heap = new ulong[k];
            var count = CandidateKeys.SelectBest(logits, heap);
            Assert.Equal(Math.Min(n, k), count);
            var best = heap[..count];
            Array.Sort(best);
            Assert.Equal(expected[..count], best);
        }
    }
}
