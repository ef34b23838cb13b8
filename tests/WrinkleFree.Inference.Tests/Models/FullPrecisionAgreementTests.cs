using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Tests.Reference;
using WrinkleFree.Reference;

namespace WrinkleFree.Inference.Tests.Models;

/// <summary>The full-precision teacher architectures (llama, qwen3) against llama.cpp on the same tiny GGUF files.</summary>
public sealed class FullPrecisionAgreementTests
{
    [Theory]
    [InlineData("llama", GgmlType.F32, 4, 1e-3f)]
    [InlineData("llama", GgmlType.F16, 2, 1e-2f)]
    [InlineData("qwen3", GgmlType.F16, 2, 1e-2f)]
    [InlineData("qwen3", GgmlType.Q8_0, 4, 0.03f)]
    public void Logits_TinyModel_MatchLlamaCpp(string architecture, GgmlType type, int kvHeads, float tolerance)
    {
        var path = TinyLlamaGguf.Write(seed: 99, architecture, type, kvHeads);
        try
        {
            using var model = Model.Load(path);
            using var reference = LlamaCppReference.Load(path, threads: 1, contextSize: 256, batchSize: 64);
            var tokens = model.Tokenizer.Encode("Hello world, this is a longer prompt to exercise attention over positions.");
            var expected = reference.Logits(tokens);
            var actual = ModelHarness.Logits(model, tokens);
            for (var t = 0; t < tokens.Length; t++)
            {
                var range = expected[t].Max() - expected[t].Min();
                var diff = LlamaCppAgreementTests.MaxAbsDiff(expected[t], actual[t]);
                Assert.True(diff <= tolerance * range, $"{architecture}/{type} position {t}: max |Δlogit| {diff} exceeds {tolerance} of the range {range}");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
