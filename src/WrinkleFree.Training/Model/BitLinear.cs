using TorchSharp;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Model;

/// <summary>
/// A bias-free linear layer with BitNet b1.58 quantization in the forward pass: per-tensor absmean ternary weights
/// (scale = mean|W|, q = clamp(round(W/scale), −1, 1)·scale) and per-token absmax int8 activations, both with the
/// straight-through estimator. <see cref="Lambda"/> blends in the quantization during warm-up:
/// w_eff = w + λ·(q(w) − w).detach(), and the same for activations; λ = 1 is fully quantized (what the engine runs).
/// </summary>
public sealed class BitLinear : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Parameter _weight;

    /// <summary>Creates a layer of <paramref name="outFeatures"/> × <paramref name="inFeatures"/> weights, normal(0, 0.02).</summary>
    public BitLinear(long inFeatures, long outFeatures, Device? device = null)
        : base(nameof(BitLinear))
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        _weight = new TorchSharp.Modules.Parameter(normal(0, 0.02, [outFeatures, inFeatures], device: device));
        register_parameter("weight", _weight);
    }

    public long InFeatures { get; }

    public long OutFeatures { get; }

    /// <summary>The full-precision latent weights [out, in] that the optimizer updates.</summary>
    public TorchSharp.Modules.Parameter Weight => _weight;

    /// <summary>Warm-up blend in [0, 1]: 0 is the plain full-precision layer, 1 is fully quantized (default).</summary>
    public double Lambda { get; set; } = 1.0;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var w = Blend(_weight, QuantizeWeights(_weight.detach()).Weights);
        var a = Blend(x, QuantizeActivations(x.detach()));
        return nn.functional.linear(a, w).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Absmean ternary quantization of <paramref name="w"/>: returns the trits (as floats in {−1, 0, 1}), the scale
    /// (mean|w|, floored at 1e-5 so an all-zero tensor stays finite) and trits·scale.
    /// </summary>
    public static (Tensor Trits, Tensor Scale, Tensor Weights) QuantizeWeights(Tensor w)
    {
        var scale = w.abs().mean().clamp_min(1e-5);
        var trits = (w / scale).round().clamp(-1, 1);
        return (trits, scale, trits * scale);
    }

    /// <summary>
    /// Per-token (last dimension) absmax int8 fake quantization: round(x·127/max|x|)·max|x|/127, ties to even as the
    /// engine's <c>ActivationQuantizer</c> does.
    /// </summary>
    public static Tensor QuantizeActivations(Tensor x)
    {
        using var scope = NewDisposeScope();
        var amax = x.abs().amax([-1L], keepdim: true).clamp_min(1e-5);
        var s = 127.0 / amax;
        return ((x * s).round().clamp(-127, 127) / s).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Value lerp(x, q, λ) (exactly q at λ = 1, so evaluation matches the engine bit for bit in the quantized values)
    /// with the identity gradient to <paramref name="x"/>: the straight-through estimator.
    /// </summary>
    private Tensor Blend(Tensor x, Tensor quantized)
    {
        var value = Lambda >= 1.0 ? quantized : Lambda <= 0.0 ? x.detach() : x.detach().lerp(quantized, Lambda);
        return x.requires_grad && is_grad_enabled() ? value + (x - x.detach()) : value;
    }
}
