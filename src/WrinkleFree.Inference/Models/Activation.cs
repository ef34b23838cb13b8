namespace WrinkleFree.Inference.Models;

/// <summary>The gated FFN's activation: SiLU (LLaMA, Qwen) or squared ReLU (BitNet b1.58 2B4T).</summary>
public enum Activation
{
    Silu,
    ReluSquared,
}
