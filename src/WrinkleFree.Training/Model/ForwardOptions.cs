namespace WrinkleFree.Training.Model;

/// <summary>What <see cref="CausalLanguageModel.Forward"/> returns besides the logits.</summary>
public sealed record ForwardOptions
{
    public static ForwardOptions LogitsOnly { get; } = new();

    /// <summary>Return the embedding output and every layer's output (before the final norm).</summary>
    public bool OutputHiddenStates { get; init; }

    /// <summary>Capture Q, K and V of this layer (0-based) for the MiniLM attention-relation loss; null for none.</summary>
    public int? CaptureAttentionLayer { get; init; }
}
