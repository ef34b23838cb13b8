using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Tests.Reference;

namespace WrinkleFree.Inference.Tests.Models;

/// <summary>The <c>wrinklefree</c> architecture (Qwen3 + SubLN) that the training export writes.</summary>
public sealed class WrinkleFreeArchitectureTests
{
    [Fact]
    public void Load_WrinkleFreeFile_BindsSubNormsAndQkNormsAndGenerates()
    {
        var path = TinyLlamaGguf.Write(seed: 5, "wrinklefree", GgmlType.F16, kvHeads: 2);
        try
        {
            using var model = Model.Load(path);
            Assert.Same(ArchitectureSpec.WrinkleFree, model.Config.Architecture);
            Assert.Equal(RopeStyle.NeoX, model.Config.Architecture.Rope);
            Assert.All(model.Layers, l =>
            {
                Assert.NotNull(l.AttnSubNorm);
                Assert.NotNull(l.FfnSubNorm);
                Assert.NotNull(l.QNorm);
            });
            var prompt = model.Tokenizer.Encode("Hello world");
            var a = ModelHarness.Greedy(model, prompt, 8);
            Assert.Equal(a, ModelHarness.Greedy(model, prompt, 8));
            Assert.All(ModelHarness.Logits(model, prompt), row => Assert.All(row, v => Assert.True(float.IsFinite(v))));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_WrinkleFreeWithoutSubNorm_NamesTheMissingTensor()
    {
        var path = TinyLlamaGguf.Write(seed: 5, "wrinklefree", GgmlType.F16, include: name => name != "blk.1.ffn_sub_norm.weight");
        try
        {
            var e = Assert.Throws<GgufFormatException>(() => Model.Load(path));
            Assert.Contains("blk.1.ffn_sub_norm.weight", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_UnknownArchitecture_ListsSupportedOnes()
    {
        var path = TinyLlamaGguf.Write(seed: 5, "gpt-j");
        try
        {
            var e = Assert.Throws<NotSupportedException>(() => Model.Load(path));
            Assert.Contains("wrinklefree", e.Message);
            Assert.Contains("gpt-j", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
