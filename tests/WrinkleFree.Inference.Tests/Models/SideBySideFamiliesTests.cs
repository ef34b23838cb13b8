using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Tensors.Kernels;

namespace WrinkleFree.Inference.Tests.Models;

/// <summary>Two models of one file loaded with different kernel families live side by side in one process.</summary>
[Collection(SyntheticModelCollection.Name)]
public sealed class SideBySideFamiliesTests(SyntheticModelFixture models)
{
    [Theory]
    [InlineData(GgmlType.I2_S)]
    [InlineData(GgmlType.TQ2_0)]
    public void ScalarAndBestSimdModels_RunConcurrently_EachAsAlone_AndAgree(GgmlType type)
    {
        var path = models.Path(type);
        // On a machine without SIMD support both are scalar, which still checks that two instances keep to themselves.
        using var scalar = Model.Load(path, KernelFamily.Scalar);
        using var simd = Model.Load(path, KernelFamily.Best);
        Assert.Same(KernelFamily.Scalar, scalar.Kernels);
        Assert.Same(KernelFamily.Best, simd.Kernels);
        Assert.All(scalar.Layers, l => Assert.Same(KernelFamily.Scalar, l.Gate.Weight.Kernels));
        Assert.All(simd.Layers, l => Assert.Same(KernelFamily.Best, l.Gate.Weight.Kernels));

        var tokens = scalar.Tokenizer.Encode("Two engines, two kernel families, one process.");
        var scalarAlone = ModelHarness.Logits(scalar, tokens);
        var simdAlone = ModelHarness.Logits(simd, tokens);

        // Both at once, several rounds started together so their forward steps overlap.
        const int rounds = 4;
        var together = new float[2][][][];
        using var start = new Barrier(2);
        var threads = new[] { scalar, simd }.Select((model, i) => new Thread(() =>
        {
            together[i] = new float[rounds][][];
            for (var r = 0; r < rounds; r++)
            {
                start.SignalAndWait();
                together[i][r] = ModelHarness.Logits(model, tokens);
            }
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        foreach (var t in threads)
        {
            t.Join();
        }

        for (var r = 0; r < rounds; r++)
        {
            for (var p = 0; p < tokens.Length; p++)
            {
                Assert.Equal(scalarAlone[p], together[0][r][p]);
                Assert.Equal(simdAlone[p], together[1][r][p]);
            }
        }

        // The ternary products are integer in every family; only float summation orders differ (norms, F16 embeddings).
        for (var p = 0; p < tokens.Length; p++)
        {
            var range = scalarAlone[p].Max() - scalarAlone[p].Min();
            var diff = LlamaCppAgreementTests.MaxAbsDiff(scalarAlone[p], simdAlone[p]);
            Assert.True(diff <= 1e-4f * range, $"position {p}: max |Δlogit| {diff} between {KernelFamily.Scalar} and {KernelFamily.Best}, range {range}");
            Assert.Equal(LlamaCppAgreementTests.ArgMax(scalarAlone[p]), LlamaCppAgreementTests.ArgMax(simdAlone[p]));
        }
    }
}
