using WrinkleFree.Inference.Tensors;

namespace WrinkleFree.Inference.Models;

/// <summary>One transformer block's tensors; optional parts are null when the architecture or file lacks them.</summary>
public sealed class LayerWeights
{
    public required float[] AttnNorm { get; init; }
    public required LinearLayer Q { get; init; }
    public required LinearLayer K { get; init; }
    public required LinearLayer V { get; init; }
    public required LinearLayer O { get; init; }
    public float[]? QNorm { get; init; }
    public float[]? KNorm { get; init; }
    public float[]? AttnSubNorm { get; init; }
    public required float[] FfnNorm { get; init; }
    public required LinearLayer Gate { get; init; }
    public required LinearLayer Up { get; init; }
    public required LinearLayer Down { get; init; }
    public float[]? FfnSubNorm { get; init; }
}
