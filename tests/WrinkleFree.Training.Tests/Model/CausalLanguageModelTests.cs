using TorchSharp;
using WrinkleFree.Training.Model;

namespace WrinkleFree.Training.Tests.Model;

[Collection(TorchCollection.Name)]
public sealed class CausalLanguageModelTests
{
    [Theory]
    [InlineData("qwen3", true)]
    [InlineData("llama", false)]
    public void Forward_TinyModel_ReturnsLogitsHiddenStatesAndCapture(string type, bool tied)
    {
        var config = TestTorch.Tiny(type, tied);
        using var model = new CausalLanguageModel(config);
        var ids = TestTorch.Tokens(2, 5, config.VocabSize);
        var output = model.Forward(ids, new ForwardOptions { OutputHiddenStates = true, CaptureAttentionLayer = 1 });
        Assert.Equal([2L, 5, config.VocabSize], output.Logits.shape);
        Assert.Equal(config.NumHiddenLayers + 1, output.HiddenStates!.Count);
        Assert.All(output.HiddenStates, h => Assert.Equal([2L, 5, config.HiddenSize], h.shape));
        Assert.Equal([2L, 4, 5, 8], output.Attention!.Query.shape);
        Assert.Equal([2L, 2, 5, 8], output.Attention.Key.shape);
        Assert.Equal([2L, 2, 5, 8], output.Attention.Value.shape);
        Assert.True(torch.isfinite(output.Logits).all().item<bool>());
    }

    [Fact]
    public void Forward_IsCausal_LaterTokensDoNotChangeEarlierLogits()
    {
        var config = TestTorch.Tiny();
        using var model = new CausalLanguageModel(config);
        var ids = TestTorch.Tokens(1, 6, config.VocabSize);
        var full = model.forward(ids);
        var prefix = model.forward(ids.narrow(1, 0, 3));
        Assert.True(TestTorch.MaxAbsDiff(full.narrow(1, 0, 3), prefix) < 1e-5f);
    }

    [Fact]
    public void Backward_ThroughModel_GivesEveryParameterAGradient()
    {
        var config = TestTorch.Tiny(ternary: true, subLn: true, tied: false);
        using var model = new CausalLanguageModel(config);
        var ids = TestTorch.Tokens(2, 6, config.VocabSize);
        var logits = model.forward(ids);
        torch.nn.functional.cross_entropy(logits.reshape(-1, config.VocabSize), ids.reshape(-1)).backward();
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} got no gradient");
        }
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void SaveLoad_RoundTrip_SameNamesAndLogits(bool tied, bool ternary)
    {
        var config = TestTorch.Tiny(tied: tied, ternary: ternary, subLn: ternary);
        using var model = new CausalLanguageModel(config);
        var dir = TestTorch.TempDir();
        model.Save(dir);
        using var loaded = CausalLanguageModel.Load(dir);
        Assert.Equal(config, loaded.Config);
        Assert.Equal(model.NamedParameters().Keys.Order(), loaded.NamedParameters().Keys.Order());
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", loaded.NamedParameters().Keys);
        Assert.Equal(!tied, loaded.NamedParameters().ContainsKey("lm_head.weight"));
        Assert.Equal(ternary, loaded.NamedParameters().ContainsKey("model.layers.1.mlp.ffn_sub_norm.weight"));
        var ids = TestTorch.Tokens(1, 4, config.VocabSize);
        Assert.Equal(0f, TestTorch.MaxAbsDiff(model.forward(ids), loaded.forward(ids)));
    }

    [Fact]
    public void Load_MissingTensor_NamesIt()
    {
        var config = TestTorch.Tiny();
        using var model = new CausalLanguageModel(config);
        var dir = TestTorch.TempDir();
        var writer = new SafeTensorsWriter();
        foreach (var (name, p) in model.NamedParameters().Where(kv => kv.Key != "model.layers.1.mlp.up_proj.weight"))
        {
            writer.Add(name, p.detach().data<float>().ToArray(), p.shape, SafeTensorDType.BF16);
        }

        writer.WriteTo(Path.Combine(dir, "model.safetensors"));
        config.Save(Path.Combine(dir, "config.json"));
        var e = Assert.Throws<InvalidDataException>(() => CausalLanguageModel.Load(dir));
        Assert.Contains("model.layers.1.mlp.up_proj.weight", e.Message);
    }

    [Fact]
    public void SetQuantizationLambda_Zero_MatchesFullPrecisionModel()
    {
        var fp = TestTorch.Tiny();
        using var teacher = new CausalLanguageModel(fp);
        using var student = new CausalLanguageModel(fp with { Ternary = true });
        using (torch.no_grad())
        {
            var sp = student.NamedParameters();
            foreach (var (name, p) in teacher.NamedParameters())
            {
                sp[name].copy_(p);
            }
        }

        var ids = TestTorch.Tokens(1, 5, fp.VocabSize);
        student.SetQuantizationLambda(0);
        Assert.True(TestTorch.MaxAbsDiff(teacher.forward(ids), student.forward(ids)) < 1e-5f);
        student.SetQuantizationLambda(1);
        Assert.True(TestTorch.MaxAbsDiff(teacher.forward(ids), student.forward(ids)) > 1e-3f);
    }
}
