using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Testing;

namespace WrinkleFree.Inference.Tests.Models;

/// <summary>ik_llama.cpp's IQ2_BN and IQ1_BN files: the same weights as TQ2_0 give bit-identical logits.</summary>
public sealed class IkTernaryModelTests
{
    [Theory]
    [InlineData(GgmlType.IQ2_BN)]
    [InlineData(GgmlType.IQ1_BN)]
    [InlineData(GgmlType.Q2_0)]
    public void SyntheticModel_IkLayout_SameLogitsAsTq2WithTheSameTrits(GgmlType type)
    {
        using var dir = new TempDirectory("wf-iqbn");
        var tq2 = Path.Combine(dir.Path, "tq2.gguf");
        var ik = Path.Combine(dir.Path, "ik.gguf");
        SyntheticModel.Write(tq2, SyntheticShape.Tiny, GgmlType.TQ2_0, seed: 9);
        SyntheticModel.Write(ik, SyntheticShape.Tiny, type, seed: 9);

        using var reference = Model.Load(tq2);
        using var model = Model.Load(ik);
        var tokens = model.Tokenizer.Encode("Ternary rows from another engine.");

        Assert.Equal(type, model.Layers[0].Q.Weight.Type);
        Assert.True(model.Layers[0].Q.Weight.Repacked);
        var expected = ModelHarness.Logits(reference, tokens);
        var actual = ModelHarness.Logits(model, tokens);
        for (var t = 0; t < tokens.Length; t++)
        {
            Assert.Equal(expected[t], actual[t]);
        }

        // IQ1_BN is 1.625 bits a weight against TQ2_0's 2.0625 (IQ2_BN's 2 bits plus 32 per row are about even at 256-value rows).
        if (type == GgmlType.IQ1_BN)
            Assert.True(new FileInfo(ik).Length < new FileInfo(tq2).Length);
    }
}
