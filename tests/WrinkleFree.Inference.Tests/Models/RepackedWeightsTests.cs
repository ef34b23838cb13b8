using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Tests.Reference;

namespace WrinkleFree.Inference.Tests.Models;

/// <summary>Load-time copies (Q8_0 for the AVX-512 kernels): every family computes the same logits, and locking works.</summary>
[Collection(WrinkleFree.Inference.Tests.Tensors.KernelDispatchCollection.Name)]
public sealed class RepackedWeightsTests
{
    [Fact]
    public void Q8Model_RepackedForAvx512_SameLogitsAsTheAvx2KernelsOnTheFileBytes_AndLocksItsCopies()
    {
        var path = TinyLlamaGguf.Write(seed: 5, "qwen3", GgmlType.Q8_0);
        try
        {
            using var model = Model.Load(path);
            var tokens = model.Tokenizer.Encode("Copies must compute what the file says.");
            if (!KernelDispatch.IsSupported(KernelIsa.Avx512))
            {
                Assert.False(model.Layers[0].Q.Weight.Repacked);
                return;
            }

            Assert.All(model.Layers.SelectMany(l => new[] { l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down }), l => Assert.True(l.Weight.Repacked));
            var repacked = ModelHarness.Logits(model, tokens);
            float[][] direct;
            KernelDispatch.Current = KernelIsa.Avx2;
            try
            {
                direct = ModelHarness.Logits(model, tokens);
            }
            finally
            {
                KernelDispatch.Current = KernelDispatch.Best;
            }

            for (var t = 0; t < tokens.Length; t++)
            {
                var range = direct[t].Max() - direct[t].Min();
                Assert.True(LlamaCppAgreementTests.MaxAbsDiff(direct[t], repacked[t]) <= 1e-4f * range, $"position {t}");
            }

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
}
