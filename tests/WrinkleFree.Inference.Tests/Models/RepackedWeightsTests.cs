using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Tests.Reference;
using WrinkleFree.Inference.Tests.Tensors;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tests.Models;

/// <summary>Load-time copies (Q8_0 for the SIMD kernels): every family computes the same logits, and locking works.</summary>
public sealed class RepackedWeightsTests
{
    [Fact]
    public void Q8Model_RepackedForEverySimdFamily_SameLogitsAsTheScalarKernelsOnTheFileBytes_AndLocksItsCopies()
    {
        var path = TinyLlamaGguf.Write(seed: 5, "qwen3", GgmlType.Q8_0);
        try
        {
            float[][] direct;
            int[] tokens;
            using (var fileBytes = Model.Load(path, KernelFamily.Scalar))
            {
                Assert.False(fileBytes.Layers[0].Q.Weight.Repacked);
                tokens = fileBytes.Tokenizer.Encode("Copies must compute what the file says.");
                direct = ModelHarness.Logits(fileBytes, tokens);
            }

            var families = KernelFamily.Supported.Where(f => f.Isa != KernelIsa.Scalar).ToArray();
            if (families.Length == 0)
            {
                return;
            }

            foreach (var family in families)
            {
                using var simd = Model.Load(path, family);
                Assert.All(simd.Layers.SelectMany(l => new[] { l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down }), l => Assert.True(l.Weight.Repacked));
                var copied = ModelHarness.Logits(simd, tokens);
                for (var t = 0; t < tokens.Length; t++)
                {
                    var range = direct[t].Max() - direct[t].Min();
                    Assert.True(LlamaCppAgreementTests.MaxAbsDiff(direct[t], copied[t]) <= 1e-4f * range, $"{family}, position {t}");
                }
            }

            using var model = Model.Load(path, families[^1]);
            var repacked = ModelHarness.Logits(model, tokens);
            try
            {
                model.LockInMemory();
            }
            catch (InvalidOperationException e) when (e.Message.Contains("RLIMIT_MEMLOCK", StringComparison.Ordinal))
            {
                return; // this machine's limit is too low to lock; what is checked here is that the copies are lockable
            }

            Assert.True(model.Locked);
            Assert.Equal(repacked[^1], ModelHarness.Logits(model, tokens)[^1]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.TQ2_0)]
    public void LookupOnlyMatrix_HasNoCopy_ButStillMultipliesLikeTheCopy(GgmlType type)
    {
        // TQ2_0 with one scale per row, so that the multiplied matrix is repacked (random block scales would not be).
        var w = type == GgmlType.TQ2_0 ? TernaryRepackTests.RowUniform(9, 512, seed: 3) : TestWeights.Random(type, 9, 512, seed: 3);
        // The widest family, whatever WF_KERNEL_ISA says: on a SIMD machine the Q8_0 lookup-only matrix must fall back.
        var lookup = WeightMatrix.Create(type, w.Address, 9, 512, "embd", KernelFamily.Best, multiplied: false);
        var multiplied = WeightMatrix.Create(type, w.Address, 9, 512, "out", KernelFamily.Best);
        Assert.Equal(KernelFamily.Best.Isa != KernelIsa.Scalar || type == GgmlType.TQ2_0, multiplied.Repacked);
        Assert.False(lookup.Repacked);
        Assert.Empty(lookup.Copies);

        var x = WeightMatrixTests.RandomBatch(3, 512, seed: 1);
        var expected = new float[3 * 9];
        var actual = new float[3 * 9];
        using var pool = new WorkerPool(2);
        multiplied.Multiply(x, expected, pool);
        lookup.Multiply(x, actual, pool);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-4f * MathF.Max(1, MathF.Abs(expected[i])), $"[{i}] {actual[i]} vs {expected[i]}");
        }

        var row = new float[512];
        var copyRow = new float[512];
        lookup.GetRow(4, row);
        multiplied.GetRow(4, copyRow);
        Assert.Equal(copyRow, row);
    }
}
