using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Threading;
using WrinkleFree.Reference;

namespace WrinkleFree.Inference.Tests.Models;

/// <summary>
/// Whole-model agreement with llama.cpp (LLamaSharp 0.30's build) on the same GGUF files. Tolerance: llama.cpp quantizes
/// activations per 256-value block (Q8_K) and we per token (BitNet's absmax, lossless w.r.t. training), so logits differ by
/// quantization noise (measured: max |Δlogit| about 1.2% of the logit range, cosine 0.9998); we require max |Δlogit| &lt;= 3% of
/// the range, the same argmax at every position and identical greedy tokens.
/// </summary>
[Collection(SyntheticModelCollection.Name)]
public sealed class LlamaCppAgreementTests(SyntheticModelFixture models)
{
    private const string Prompt = "The quick brown fox jumps over the lazy dog. It was the best of times";

    [Theory]
    [InlineData(GgmlType.TQ2_0)]
    [InlineData(GgmlType.TQ1_0)]
    public void Logits_TinyBitNet_MatchLlamaCpp(GgmlType type)
    {
        var path = models.Path(type);
        using var model = Model.Load(path);
        using var reference = LlamaCppReference.Load(path, threads: 1, contextSize: 256, batchSize: 64);
        var tokens = model.Tokenizer.Encode(Prompt);
        var expected = reference.Logits(tokens);
        var actual = ModelHarness.Logits(model, tokens);
        for (var t = 0; t < tokens.Length; t++)
        {
            var range = expected[t].Max() - expected[t].Min();
            var diff = MaxAbsDiff(expected[t], actual[t]);
            Assert.True(diff <= 0.03f * range, $"position {t}: max |Δlogit| {diff} exceeds 3% of the logit range {range}");
            Assert.Equal(ArgMax(expected[t]), ArgMax(actual[t]));
        }
    }

    [Theory]
    [InlineData(GgmlType.TQ2_0)]
    [InlineData(GgmlType.TQ1_0)]
    public void Greedy_TinyBitNet_SameTokensAsLlamaCpp(GgmlType type)
    {
        var path = models.Path(type);
        using var model = Model.Load(path);
        using var reference = LlamaCppReference.Load(path, threads: 1, contextSize: 256, batchSize: 64);
        var prompt = model.Tokenizer.Encode("Once upon a time");
        var expected = reference.Greedy(prompt, 24);
        var actual = ModelHarness.Greedy(model, prompt, 24);
        var first = Enumerable.Range(0, expected.Length).FirstOrDefault(i => expected[i] != actual[i], -1);
        if (first < 0)
        {
            return;
        }

        // After a split the two continuations condition on different tokens, so only the split itself can be judged: it
        // must be a tie in llama.cpp's own logits, closer than the quantization noise between the engines (about 1 % of the
        // range, see above). The random weights of these models make such ties: on TQ2_0 the 21st token is 444 over 379 by
        // 0.012 of a 60-wide range; the F16 KV cache took it the other way, where the float32 cache had followed llama.cpp.
        var logits = reference.Logits([.. prompt, .. expected])[prompt.Length - 1 + first];
        var range = logits.Max() - logits.Min();
        var gap = logits[expected[first]] - logits[actual[first]];
        Assert.True(
            gap <= 0.005f * range,
            $"greedy token {first}: {actual[first]} where llama.cpp chose {expected[first]}, which its logits put ahead by {gap} (over 0.5 % of the range {range}, so not a tie)");
    }

    [Fact]
    public void Logits_I2SAndTq2SameWeights_Agree()
    {
        using var i2s = Model.Load(models.Path(GgmlType.I2_S));
        using var tq2 = Model.Load(models.Path(GgmlType.TQ2_0));
        var tokens = i2s.Tokenizer.Encode(Prompt);
        var a = ModelHarness.Logits(i2s, tokens);
        var b = ModelHarness.Logits(tq2, tokens);
        for (var t = 0; t < tokens.Length; t++)
        {
            Assert.True(MaxAbsDiff(a[t], b[t]) < 1e-3f, $"position {t}: I2_S and TQ2_0 logits differ by {MaxAbsDiff(a[t], b[t])}");
        }
    }

    internal static float MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        var max = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }

    internal static int ArgMax(float[] v)
    {
        var best = 0;
        for (var i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best])
            {
                best = i;
            }
        }

        return best;
    }
}
