using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Inference.Tests.Models;

/// <summary>
/// A step over several tokens shares its per-token work (norms, RoPE and the KV writes, gates, residual adds, activation
/// quantization) among the pool's threads; every token's values must come out as one thread gives them.
/// </summary>
[Collection(SyntheticModelCollection.Name)]
public sealed class BatchedStepTests(SyntheticModelFixture models)
{
    [Theory]
    [InlineData(GgmlType.I2_S)]
    [InlineData(GgmlType.TQ2_0)]
    public void Logits_PromptAsOneBatch_SameBitsOnOneAndTwoThreads(GgmlType type)
    {
        using var model = Model.Load(models.Path(type));
        var tokens = model.Tokenizer.Encode("The quick brown fox jumps over the lazy dog. It was the best of times");
        Assert.True(tokens.Length >= 9, "the prompt must span several pool chunks");
        var one = ModelHarness.Logits(model, tokens, threads: 1, chunk: tokens.Length);
        var two = ModelHarness.Logits(model, tokens, threads: 2, chunk: tokens.Length);
        for (var t = 0; t < tokens.Length; t++)
        {
            for (var i = 0; i < one[t].Length; i++)
            {
                Assert.True(
                    BitConverter.SingleToInt32Bits(one[t][i]) == BitConverter.SingleToInt32Bits(two[t][i]),
                    $"position {t}, logit {i}: {two[t][i]} on two threads, {one[t][i]} on one");
            }
        }
    }
}
