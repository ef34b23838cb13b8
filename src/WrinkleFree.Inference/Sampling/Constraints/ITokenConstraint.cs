namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>
/// Restricts what one sequence may generate (a grammar, a JSON schema). The engine asks it to mask the logits before
/// every draw, tells it the chosen token, and allows end-of-generation only where <see cref="IsComplete"/> holds.
/// One instance serves one sequence and is used from the engine's loop thread only.
/// </summary>
public interface ITokenConstraint
{
    /// <summary>
    /// Sets the logit of every token that cannot continue the text toward a complete document to negative infinity;
    /// end-of-generation tokens stay only when the text so far is complete. Throws <see cref="InvalidOperationException"/>
    /// when no token at all is allowed (a grammar with a dead end).
    /// </summary>
    void Apply(Span<float> logits);

    /// <summary>Advances past the token the sampler chose.</summary>
    void Accept(int tokenId);

    /// <summary>Whether the text so far is a complete document (end-of-generation is allowed now).</summary>
    bool IsComplete { get; }
}
