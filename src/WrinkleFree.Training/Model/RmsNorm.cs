using TorchSharp;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Model;

/// <summary>RMSNorm as Hugging Face LLaMA/Qwen3 compute it: x · rsqrt(mean(x²) + eps) · weight, weight initialised to 1.</summary>
internal sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Parameter _weight;
    private readonly double _eps;

    public RmsNorm(long size, double eps, Device? device = null)
        : base(nameof(RmsNorm))
    {
        _eps = eps;
        _weight = new TorchSharp.Modules.Parameter(ones(size, device: device));
        register_parameter("weight", _weight);
    }

    public TorchSharp.Modules.Parameter Weight => _weight;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var variance = x.pow(2).mean([-1L], keepdim: true);
        return (x * rsqrt(variance + _eps) * _weight).MoveToOuterDisposeScope();
    }
}
