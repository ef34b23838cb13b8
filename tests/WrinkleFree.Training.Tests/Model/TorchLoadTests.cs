using TorchSharp;

namespace WrinkleFree.Training.Tests.Model;

public sealed class TorchLoadTests
{
    [Fact]
    public void MatmulBackward_OnCpu_ProducesGradients()
    {
        _ = TestTorch.Tiny();
        var a = torch.ones(2, 3, requires_grad: true);
        var b = torch.full(3, 4, 2f);
        var loss = a.matmul(b).sum();
        loss.backward();
        Assert.Equal(48f, loss.item<float>());
        // d(sum(a·b))/da[i,k] = Σ_j b[k,j] = 4 · 2.
        Assert.Equal(0f, TestTorch.MaxAbsDiff(a.grad!, torch.full(2, 3, 8f)));
    }
}
