using WrinkleFree.Inference.Sampling;

namespace WrinkleFree.Inference.Tests.Sampling;

public sealed class SamplerTests
{
    private const int Draws = 20_000;

    [Fact]
    public void Sample_Greedy_ReturnsArgmax()
    {
        var random = new Random(1);
        var sampler = new Sampler(new SamplingOptions { Temperature = 0 }, 5000);
        for (var round = 0; round < 20; round++)
        {
            var logits = RandomLogits(random, 5000);
            var expected = 0;
            for (var i = 1; i < logits.Length; i++)
            {
                if (logits[i] > logits[expected])
                {
                    expected = i;
                }
            }

            Assert.Equal(expected, sampler.Sample(logits, []));
        }
    }

    [Fact]
    public void Sample_GreedyTie_ReturnsLowestId()
    {
        var sampler = new Sampler(new SamplingOptions { Temperature = 0 }, 5);
        Assert.Equal(1, sampler.Sample([1f, 3f, 3f, 2f, 3f], []));
    }

    [Fact]
    public void Sample_TopKOne_EqualsGreedy()
    {
        var random = new Random(2);
        var greedy = new Sampler(new SamplingOptions { Temperature = 0 }, 300);
        var topK = new Sampler(new SamplingOptions { TopK = 1, Temperature = 1.5f, Seed = 7 }, 300);
        for (var round = 0; round < 50; round++)
        {
            var logits = RandomLogits(random, 300);
            if (round % 2 == 0)
            {
                // Force a tie for the maximum: both must pick the lower id.
                logits[17] = logits[250] = 100;
            }

            Assert.Equal(greedy.Sample(logits.ToArray(), []), topK.Sample(logits.ToArray(), []));
        }
    }

    [Fact]
    public void Sample_SameSeed_GivesSameSequence()
    {
        var options = new SamplingOptions { Seed = 42, TopK = 50, TopP = 0.95f, MinP = 0.01f, RepetitionPenalty = 1.1f, FrequencyPenalty = 0.2f };
        Assert.Equal(Generate(options, 300), Generate(options, 300));
        Assert.Equal(Generate(options with { TopK = 0 }, 300), Generate(options with { TopK = 0 }, 300));
    }

    [Fact]
    public void Sample_DifferentSeeds_Differ()
    {
        var options = new SamplingOptions { Seed = 1, TopK = 50 };
        Assert.NotEqual(Generate(options, 100), Generate(options with { Seed = 2 }, 100));
        Assert.NotEqual(Generate(options with { Seed = null }, 100), Generate(options with { Seed = null }, 100));
    }

    [Fact]
    public void Sample_Temperature_FrequenciesFollowTemperedSoftmax()
    {
        float[] probs = [0.5f, 0.3f, 0.2f];
        var counts = Frequencies(new SamplingOptions { Seed = 3 }, Log(probs));
        AssertNear([0.5, 0.3, 0.2], counts);

        // T = 0.5 squares the probabilities before renormalizing.
        counts = Frequencies(new SamplingOptions { Seed = 4, Temperature = 0.5f }, Log(probs));
        AssertNear(Normalize([0.25, 0.09, 0.04]), counts);
    }

    [Fact]
    public void Sample_TopK_KeepsOnlyTheKBest()
    {
        var counts = Frequencies(new SamplingOptions { Seed = 5, TopK = 2 }, Log([0.1f, 0.4f, 0.2f, 0.3f]));
        AssertNear([0, 4 / 7.0, 0, 3 / 7.0], counts);
    }

    [Fact]
    public void Sample_TopP_KeepsSmallestSetReachingP()
    {
        // 0.5 < 0.75 <= 0.5 + 0.3: the two best stay, renormalized to 0.625 / 0.375.
        var counts = Frequencies(new SamplingOptions { Seed = 6, TopP = 0.75f }, Log([0.15f, 0.5f, 0.05f, 0.3f]));
        AssertNear([0, 0.625, 0, 0.375], counts);
    }

    [Fact]
    public void Sample_MinP_DropsTokensBelowFractionOfBest()
    {
        // Threshold 0.2 * 0.5 = 0.1: only the 0.05 token goes.
        var counts = Frequencies(new SamplingOptions { Seed = 7, MinP = 0.2f }, Log([0.5f, 0.3f, 0.15f, 0.05f]));
        AssertNear(Normalize([0.5, 0.3, 0.15, 0]), counts);
    }

    [Theory]
    [InlineData(0.9f, 10f, false, 500)]
    [InlineData(0.5f, 60f, false, 2)]
    [InlineData(0.999f, 10f, true, 5000)]
    [InlineData(0.3f, 0f, false, 5000)]
    public void Sample_TopPOverLargeVocabulary_MatchesFullSortReference(float topP, float spread, bool masked, int minKept)
    {
        const int vocab = 20_000;
        var random = new Random(8);
        var logits = new float[vocab];
        for (var i = 0; i < vocab; i++)
        {
            // spread 0 makes every logit equal: all land in one bucket and ties are broken by id.
            logits[i] = masked && i % 3 == 0 ? float.NegativeInfinity : (float)(random.NextDouble() * spread);
        }

        var order = Enumerable.Range(0, vocab).OrderByDescending(i => logits[i]).ThenBy(i => i).ToArray();
        var max = logits.Max();
        var total = logits.Sum(l => Math.Exp(l - max));
        var kept = 0;
        for (var cumulative = 0.0; cumulative < topP * total; kept++)
        {
            cumulative += Math.Exp(logits[order[kept]] - max);
        }

        Assert.InRange(kept, minKept, vocab - 1);
        var allowed = order[..kept].ToHashSet();
        var sampler = new Sampler(new SamplingOptions { Seed = 9, TopP = topP }, vocab);
        var seen = new HashSet<int>();
        var buffer = new float[vocab];
        for (var draw = 0; draw < 5000; draw++)
        {
            logits.CopyTo(buffer, 0);
            var id = sampler.Sample(buffer, []);
            Assert.Contains(id, allowed);
            seen.Add(id);
        }

        Assert.True(seen.Count >= Math.Min(kept / 2, 1000), $"only {seen.Count} of {kept} kept tokens drawn");
    }

    [Fact]
    public void Sample_RepetitionPenalty_DividesPositiveAndMultipliesNegative()
    {
        var logits = new[] { 2f, -1f, 0.5f, 3f };
        new Sampler(new SamplingOptions { Temperature = 0, RepetitionPenalty = 2 }, 4).Sample(logits, [0, 1, 0]);
        Assert.Equal([1f, -2f, 0.5f, 3f], logits);
    }

    [Fact]
    public void Sample_PenaltyWindow_OnlyLooksAtRecentTokens()
    {
        var logits = new[] { 2f, -1f, 0.5f, 3f };
        new Sampler(new SamplingOptions { Temperature = 0, RepetitionPenalty = 2, PenaltyWindow = 2 }, 4).Sample(logits, [2, 0, 1]);
        Assert.Equal([1f, -2f, 0.5f, 3f], logits);

        logits = [2f, -1f, 0.5f, 3f];
        new Sampler(new SamplingOptions { Temperature = 0, RepetitionPenalty = 2, PenaltyWindow = -1 }, 4).Sample(logits, [2, 0, 1]);
        Assert.Equal([1f, -2f, 0.25f, 3f], logits);

        logits = [2f, -1f, 0.5f, 3f];
        new Sampler(new SamplingOptions { Temperature = 0, RepetitionPenalty = 2, PenaltyWindow = 0 }, 4).Sample(logits, [2, 0, 1]);
        Assert.Equal([2f, -1f, 0.5f, 3f], logits);
    }

    [Fact]
    public void Sample_FrequencyPenalty_SubtractsPerOccurrence()
    {
        var logits = new[] { 2f, -1f, 0.5f, 3f };
        new Sampler(new SamplingOptions { Temperature = 0, FrequencyPenalty = 0.5f }, 4).Sample(logits, [0, 0, 1, 0]);
        Assert.Equal([0.5f, -1.5f, 0.5f, 3f], logits);
    }

    [Fact]
    public void Sample_PresencePenalty_SubtractsOncePerSeenToken()
    {
        var logits = new[] { 2f, -1f, 0.5f, 3f };
        new Sampler(new SamplingOptions { Temperature = 0, PresencePenalty = 0.75f }, 4).Sample(logits, [0, 0, 1, 0]);
        Assert.Equal([1.25f, -1.75f, 0.5f, 3f], logits);
    }

    [Fact]
    public void Sample_AllPenalties_ApplyRepetitionThenFrequencyAndPresence()
    {
        var logits = new[] { 2f, -1f, 0.5f, 3f };
        var options = new SamplingOptions { Temperature = 0, RepetitionPenalty = 2, FrequencyPenalty = 0.5f, PresencePenalty = 0.25f };
        var sampler = new Sampler(options, 4);
        var id = sampler.Sample(logits, [3, 3, 1]);
        // token 3: 3 / 2 - 2 * 0.5 - 0.25 = 0.25; token 1: -1 * 2 - 0.5 - 0.25 = -2.75.
        Assert.Equal([2f, -2.75f, 0.5f, 0.25f], logits);
        Assert.Equal(0, id);

        // Counts are cleared between calls: the same input gives the same output.
        logits = [2f, -1f, 0.5f, 3f];
        sampler.Sample(logits, [3, 3, 1]);
        Assert.Equal([2f, -2.75f, 0.5f, 0.25f], logits);
    }

    [Fact]
    public void Sample_Logprobs_FullDistributionSumsToOneAndAlternativesSorted()
    {
        const int vocab = SamplingOptions.MaxTopLogprobs;
        var random = new Random(10);
        var sampler = new Sampler(new SamplingOptions { Seed = 11, Logprobs = true, TopLogprobs = vocab, TopK = 5 }, vocab);
        for (var round = 0; round < 20; round++)
        {
            var logits = RandomLogits(random, vocab);
            var id = sampler.Sample(logits, []);
            var top = sampler.LastTopLogprobs;
            Assert.Equal(vocab, top.Length);
            var sum = 0.0;
            for (var i = 0; i < top.Length; i++)
            {
                sum += Math.Exp(top[i].Logprob);
                if (i > 0)
                {
                    Assert.True(top[i - 1].Logprob >= top[i].Logprob);
                }
            }

            Assert.Equal(1.0, sum, 4);
            Assert.Equal(vocab, top.ToArray().Select(t => t.TokenId).Distinct().Count());
            Assert.Equal(top.ToArray().Single(t => t.TokenId == id).Logprob, sampler.LastLogprob);
        }
    }

    [Fact]
    public void Sample_Logprobs_UsePenalizedUntemperedDistribution()
    {
        float[] raw = [1f, 2f, 0.5f, -1f, 0f];
        var history = new[] { 1 };
        var expected = new[] { 1f, 1f, 0.5f, -1f, 0f };
        var logSumExp = Math.Log(expected.Sum(l => Math.Exp(l)));
        var sampler = new Sampler(new SamplingOptions { Seed = 12, Temperature = 0.3f, RepetitionPenalty = 2, Logprobs = true, TopLogprobs = 2 }, 5);
        for (var round = 0; round < 50; round++)
        {
            var logits = raw.ToArray();
            var id = sampler.Sample(logits, history);
            Assert.Equal(expected[id] - logSumExp, sampler.LastLogprob, 5);
            Assert.Equal(2, sampler.LastTopLogprobs.Length);
            Assert.Equal(0, sampler.LastTopLogprobs[0].TokenId);
            Assert.Equal(1, sampler.LastTopLogprobs[1].TokenId);
            Assert.Equal(1f - logSumExp, sampler.LastTopLogprobs[0].Logprob, 5);
        }
    }

    [Fact]
    public void Sample_LogprobsOff_ReportsNothing()
    {
        var sampler = new Sampler(new SamplingOptions { Seed = 1 }, 3);
        sampler.Sample([1f, 2f, 3f], []);
        Assert.True(float.IsNaN(sampler.LastLogprob));
        Assert.True(sampler.LastTopLogprobs.IsEmpty);
    }

    [Fact]
    public void Sample_MaskedLogits_NeverDrawn()
    {
        var logits = new[] { float.NegativeInfinity, 0f, float.NegativeInfinity, 0f };
        foreach (var options in new[] { new SamplingOptions { Seed = 1 }, new SamplingOptions { Seed = 1, TopP = 0.9f }, new SamplingOptions { Seed = 1, MinP = 0.1f, TopK = 3 } })
        {
            var counts = Frequencies(options, logits, 2000);
            Assert.Equal(0, counts[0]);
            Assert.Equal(0, counts[2]);
        }
    }

    [Fact]
    public void Sample_BadInput_ThrowsNamingTheArgument()
    {
        var sampler = new Sampler(new SamplingOptions { RepetitionPenalty = 1.2f }, 3);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => sampler.Sample(new float[4], [])).ParamName);
        Assert.Equal("history", Assert.Throws<ArgumentException>(() => sampler.Sample(new float[3], [0, 3])).ParamName);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => sampler.Sample([1f, float.NaN, 0f], [])).ParamName);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => sampler.Sample([float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity], [])).ParamName);

        // The failed call left no stale counts: a penalty-free token is untouched.
        var logits = new[] { 1f, 1f, 1f };
        sampler.Sample(logits, [1]);
        Assert.Equal([1f, 1f / 1.2f, 1f], logits);
    }

    public static TheoryData<SamplingOptions> SteadyStateOptions() => new()
    {
        new SamplingOptions { Seed = 1 },
        new SamplingOptions { Temperature = 0, RepetitionPenalty = 1.1f },
        new SamplingOptions { Seed = 1, TopK = 40, TopP = 0.9f, MinP = 0.05f, RepetitionPenalty = 1.1f, PresencePenalty = 0.5f, FrequencyPenalty = 0.5f, Logprobs = true, TopLogprobs = 5 },
        new SamplingOptions { Seed = 1, TopP = 0.95f, Temperature = 0.7f },
        new SamplingOptions { Seed = 1, MinP = 0.1f, Logprobs = true },
    };

    [Theory]
    [MemberData(nameof(SteadyStateOptions))]
    public void Sample_AfterWarmUp_DoesNotAllocate(SamplingOptions options)
    {
        const int vocab = 152_064;
        var logits = RandomLogits(new Random(13), vocab);
        var buffer = new float[vocab];
        var history = new int[200];
        for (var i = 0; i < history.Length; i++)
        {
            history[i] = (i * 7919) % vocab;
        }

        var sampler = new Sampler(options, vocab);
        SteadyState.AssertAllocatesNothing(_ =>
        {
            logits.CopyTo(buffer, 0);
            sampler.Sample(buffer, history);
        }, warmUp: 5);
    }

    private static int[] Generate(SamplingOptions options, int length)
    {
        const int vocab = 1000;
        var sampler = new Sampler(options, vocab);
        var history = new List<int> { 1, 2, 3 };
        var logits = new float[vocab];
        for (var step = 0; step < length; step++)
        {
            // Logits depend only on the step and the last token, like a (very small) language model.
            var state = new Random((step * 1000) + history[^1]);
            for (var i = 0; i < vocab; i++)
            {
                logits[i] = (float)(state.NextDouble() * 4);
            }

            history.Add(sampler.Sample(logits, history.ToArray()));
        }

        return history.ToArray();
    }

    private static double[] Frequencies(SamplingOptions options, float[] logits, int draws = Draws)
    {
        var sampler = new Sampler(options, logits.Length);
        var counts = new double[logits.Length];
        var buffer = new float[logits.Length];
        for (var i = 0; i < draws; i++)
        {
            logits.CopyTo(buffer, 0);
            counts[sampler.Sample(buffer, [])]++;
        }

        return counts;
    }

    // Exclusions are exact (zero draws); kept tokens within 0.02 of their expected share, about 4.5 standard errors at 20k draws.
    private static void AssertNear(double[] expected, double[] counts)
    {
        var total = counts.Sum();
        for (var i = 0; i < expected.Length; i++)
        {
            if (expected[i] == 0)
            {
                Assert.Equal(0, counts[i]);
            }
            else
            {
                Assert.InRange(counts[i] / total, expected[i] - 0.02, expected[i] + 0.02);
            }
        }
    }

    private static double[] Normalize(double[] weights)
    {
        var sum = weights.Sum();
        return weights.Select(w => w / sum).ToArray();
    }

    private static float[] Log(float[] probs) => probs.Select(p => MathF.Log(p)).ToArray();

    private static float[] RandomLogits(Random random, int count)
    {
        var logits = new float[count];
        for (var i = 0; i < count; i++)
        {
            logits[i] = (float)((random.NextDouble() * 10) - 5);
        }

        return logits;
    }
}
