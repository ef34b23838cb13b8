using static TorchSharp.torch;

namespace WrinkleFree.Training.Model;

/// <summary>
/// Result of a forward pass: logits [B, T, V]; with <see cref="ForwardOptions.OutputHiddenStates"/>, L + 1 hidden states
/// [B, T, hidden] (index 0 the embeddings, index i the output of layer i, before the final norm); with
/// <see cref="ForwardOptions.CaptureAttentionLayer"/>, that layer's Q, K and V.
/// </summary>
public sealed record ModelOutput(Tensor Logits, IReadOnlyList<Tensor>? HiddenStates, AttentionCapture? Attention);
