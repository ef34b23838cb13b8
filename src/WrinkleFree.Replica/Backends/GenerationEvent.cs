using WrinkleFree.Inference.Sampling;

namespace WrinkleFree.Replica.Backends;

/// <summary>A piece of one choice's output; the last event carries <see cref="FinishReason"/> and exact usage.</summary>
public sealed record GenerationEvent
{
    public required string Text { get; init; }

    /// <summary>Token id of this piece, when known (-1 otherwise).</summary>
    public int TokenId { get; init; } = -1;

    /// <summary>The token's text as the tokenizer spells it (for logprobs).</summary>
    public string? TokenText { get; init; }

    /// <summary>Part of the echoed prompt (completions with echo), not generated: no latency metrics.</summary>
    public bool IsEcho { get; init; }

    /// <summary>Whether this event is a token entry of a logprobs answer (it has the token's spelling).</summary>
    public bool HasLogprobEntry => TokenText is not null;

    public float? Logprob { get; init; }

    public IReadOnlyList<TopLogprob>? TopLogprobs { get; init; }

    /// <summary>Pieces of tool calls this event completes (chat with tools), in OpenAI's delta.tool_calls shape.</summary>
    public IReadOnlyList<Chat.ToolCallDelta>? ToolCalls { get; init; }

    /// <summary>"stop", "length" or "tool_calls" on the last event, else null.</summary>
    public string? FinishReason { get; init; }

    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }

    /// <summary>Prompt tokens read from the prefix cache instead of computed (usage.prompt_tokens_details.cached_tokens).</summary>
    public int CachedPromptTokens { get; init; }
}

/// <summary>One alternative token with its text and logprob.</summary>
public readonly record struct TopLogprob(string Token, float Logprob, int TokenId = -1);
