using TorchSharp;
using WrinkleFree.Training.Model;

namespace WrinkleFree.Training.Tests.Model;

[Collection(TorchCollection.Name)]
public sealed class BitLinearTests
{
    [Fact]
    public void QuantizeWeights_HandExample_AbsmeanScaleAndTrits()
    {
        _ = TestTorch.Tiny();
        // mean|w| = (0.1 + 0.5 + 0.3 + 0.02 + 1.2 + 0.28) / 6 = 0.4
        var w = torch.tensor(new[] { 0.1f, -0.5f, 0.3f, 0.02f, 1.2f, -0.28f }, [2, 3]);
        var (trits, scale, q) = BitLinear.QuantizeWeights(w);
        Assert.Equal(0.4f, scale.item<float>(), 6);
        // w/s = 0.25 −1.25 0.75 0.05 3 −0.7 → 0 −1 1 0 1 −1
        Assert.Equal(new[] { 0f, -1, 1, 0, 1, -1 }, trits.data<float>().ToArray());
        Assert.Equal(new[] { 0f, -0.4f, 0.4f, 0, 0.4f, -0.4f }, q.data<float>().ToArray(), new ToleranceComparer(1e-6f));
    }

    [Fact]
    public void QuantizeActivations_HandExample_PerTokenAbsmaxInt8()
    {
        _ = TestTorch.Tiny();
        var x = torch.tensor(new[] { 1f, -0.5f, 0.004f, 2f, 0f, -4f }, [2, 3]);
        var q = BitLinear.QuantizeActivations(x).data<float>().ToArray();
        // Row 0: amax 1 → 127·x = 127, −63.5 (ties to even → −64), 0.508 → 1.
        Assert.Equal(new[] { 1f, -64f / 127, 1f / 127 }, q[..3], new ToleranceComparer(1e-6f));
        // Row 1: amax 4 → 63.5 → 64, 0, −127.
        Assert.Equal(new[] { 64f * 4 / 127, 0f, -4f }, q[3..], new ToleranceComparer(1e-6f));
    }

    [Fact]
    public void Forward_FullyQuantized_EqualsIntegerMatmulAndPassesStraightThroughGradient()
    {
        _ = TestTorch.Tiny();
        using var layer = new BitLinear(8, 3);
        var x = torch.randn(2, 8, requires_grad: true);
        var y = layer.forward(x);
        var (trits, scale, _) = BitLinear.QuantizeWeights(layer.Weight.detach());
        var expected = torch.nn.functional.linear(BitLinear.QuantizeActivations(x.detach()), trits * scale);
        Assert.True(TestTorch.MaxAbsDiff(y, expected) < 1e-6f);
        y.sum().backward();
        // STE: the gradient is that of a linear layer with the quantized weights and the identity through quantizers.
        var gx = torch.ones(2, 3).matmul(trits * scale);
        Assert.True(TestTorch.MaxAbsDiff(x.grad!, gx) < 1e-6f);
        var gw = torch.ones(2, 3).t().matmul(BitLinear.QuantizeActivations(x.detach()));
        Assert.True(TestTorch.MaxAbsDiff(layer.Weight.grad!, gw) < 1e-5f);
    }

    [Fact]
    public void Forward_HalfLambda_BlendsFullPrecisionAndQuantized()
    {
        _ = TestTorch.Tiny();
        using var layer = new BitLinear(8, 3) { Lambda = 0.5 };
        var x = torch.randn(2, 8);
        var w = layer.Weight.detach();
        var wEff = w + 0.5 * (BitLinear.QuantizeWeights(w).Weights - w);
        var xEff = x + 0.5 * (BitLinear.QuantizeActivations(x) - x);
        Assert.True(TestTorch.MaxAbsDiff(layer.forward(x), torch.nn.functional.linear(xEff, wEff)) < 1e-5f);
    }

    [Fact]
    public void Convert_Teacher_CopiesWeightsAndInsertsUnitSubLn()
    {
        var config = TestTorch.Tiny();
        using var teacher = new CausalLanguageModel(config);
        using var student = SubLnConverter.Convert(teacher);
        Assert.True(student.Config.Ternary);
        Assert.True(student.Config.SubLn);
        var t = teacher.NamedParameters();
        foreach (var (name, p) in student.NamedParameters())
        {
            var expected = t.TryGetValue(name, out var tp) ? tp : torch.ones_like(p);
            Assert.True(TestTorch.MaxAbsDiff(p, expected) == 0f, name);
        }

        Assert.Equal(config.NumHiddenLayers * 7, student.modules().OfType<BitLinear>().Distinct().Count());
        using var plain = SubLnConverter.Convert(teacher, insertSubLn: false);
        Assert.DoesNotContain(plain.NamedParameters().Keys, k => k.Contains("sub_norm", StringComparison.Ordinal));
    }

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => MathF.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
