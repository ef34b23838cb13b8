using WrinkleFree.Inference.Sampling;

namespace WrinkleFree.Server.Backends;

/// <summary>A piece of one choice's output; the last event carries <see cref="FinishReason"/> and exact usage.</summary>
public sealed record GenerationEvent
{
    public required string Text { get; init; }

    /// <summary>Token id of this piece, when known (-1 otherwise).</summary>
    public int TokenId { get; init; } = -1;

    /// <summary>The token's text as the tokenizer spells it (for logprobs).</summary>
    public string? TokenText { get; init; }

    public float? Logprob { get; init; }

    public IReadOnlyList<TopLogprob>? TopLogprobs { get; init; }

    /// <summary>"stop" or "length" on the last event, else null.</summary>
    public string? FinishReason { get; init; }

    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }
}

/// <summary>One alternative token with its text and logprob.</summary>
public readonly record struct TopLogprob(string Token, float Logprob, int TokenId = -1);
