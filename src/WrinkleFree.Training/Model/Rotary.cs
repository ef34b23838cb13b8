using static TorchSharp.torch;

namespace WrinkleFree.Training.Model;

/// <summary>
/// Rotary position embeddings in the Hugging Face layout (rotate_half: dimension i pairs with i + d/2), which is what the
/// engine calls NeoX; LLaMA GGUF exports permute q/k rows so the engine's adjacent-pair rotation gives the same result.
/// </summary>
internal static class Rotary
{
    /// <summary>cos and sin tables [T, headDim] for positions 0..T−1 (angles computed in float64, then cast).</summary>
    public static (Tensor Cos, Tensor Sin) Tables(long length, int headDim, double theta, Device device)
    {
        using var scope = NewDisposeScope();
        var half = headDim / 2;
        var invFreq = pow(theta, -2.0 * arange(half, dtype: ScalarType.Float64) / headDim);
        var angles = outer(arange(length, dtype: ScalarType.Float64), invFreq);
        var full = cat([angles, angles], -1);
        var cos = full.cos().to(ScalarType.Float32).to(device);
        var sin = full.sin().to(ScalarType.Float32).to(device);
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    /// <summary>Applies the rotation to x [B, H, T, D].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = cat([-x2, x1], -1);
        return (x * cos + rotated * sin).MoveToOuterDisposeScope();
    }
}
