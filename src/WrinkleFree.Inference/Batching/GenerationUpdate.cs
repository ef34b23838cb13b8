using WrinkleFree.Inference.Sampling;

namespace WrinkleFree.Inference.Batching;

/// <summary>
/// One generated token as a stream element: its id, the text it makes safe to emit (possibly empty while a UTF-8 sequence
/// or a possible stop string is incomplete), its logprob, and on the last update the finish reason and usage.
/// </summary>
public sealed record GenerationUpdate
{
    /// <summary>Token id, or -1 for a final update that carries only held-back text and the finish reason.</summary>
    public required int TokenId { get; init; }

    public required string Text { get; init; }

    public float? Logprob { get; init; }

    public TokenLogprob[]? TopLogprobs { get; init; }

    public FinishReason? FinishReason { get; init; }

    /// <summary>
    /// On the first update of a sequence with <see cref="GenerationRequest.PromptLogprobs"/>: one entry per prompt token,
    /// in order. Its logprob is under the raw model distribution (no penalties or temperature).
    /// </summary>
    public PromptTokenLogprob[]? PromptLogprobs { get; init; }

    public required int PromptTokens { get; init; }

    public required int CompletionTokens { get; init; }

    /// <summary>Leading prompt tokens served from the prefix cache (OpenAI's usage.prompt_tokens_details.cached_tokens).</summary>
    public int CachedPromptTokens { get; init; }

    /// <summary>Seconds from submission to the first generated token (set on every update).</summary>
    public double TimeToFirstTokenSeconds { get; init; }
}

/// <summary>A prompt token, its logprob given the tokens before it (null for the first token) and the top alternatives.</summary>
public readonly record struct PromptTokenLogprob(int TokenId, float? Logprob, TokenLogprob[] TopLogprobs);
