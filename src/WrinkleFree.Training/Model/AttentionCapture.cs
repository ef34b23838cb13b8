using static TorchSharp.torch;

namespace WrinkleFree.Training.Model;

/// <summary>
/// One layer's attention inputs: Q [B, H, T, D] after q-norm and RoPE, K [B, Hkv, T, D] after k-norm and RoPE, and
/// V [B, Hkv, T, D] (key/value heads are not repeated for GQA).
/// </summary>
public sealed record AttentionCapture(Tensor Query, Tensor Key, Tensor Value);
