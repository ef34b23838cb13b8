using WrinkleFree.Inference.Sampling;
using WrinkleFree.Replica.Chat;

namespace WrinkleFree.Replica.Backends;

/// <summary>One choice to generate, as the API layer parsed it from a completions or chat request.</summary>
public sealed record GenerationInput
{
    /// <summary>Text prompt (completions with a string prompt).</summary>
    public string? PromptText { get; init; }

    /// <summary>Token-id prompt (completions with token ids).</summary>
    public int[]? PromptTokens { get; init; }

    /// <summary>Chat messages (chat completions); the backend applies the chat template (bitnet) or forwards them (vllm).</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }

    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>null = until the context limit.</summary>
    public int? MaxTokens { get; init; }

    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Completions only: text that comes after the completion; the model fills in the middle (needs its FIM tokens).</summary>
    public string? Suffix { get; init; }

    /// <summary>Completions only: prepend the prompt text to the output.</summary>
    public bool Echo { get; init; }

    /// <summary>Chat only: the declared tools and tool_choice (null: none declared).</summary>
    public ChatToolOptions? Tools { get; init; }

    /// <summary>The model name the client sent (vllm forwards it).</summary>
    public string? Model { get; init; }

    /// <summary>response_format or grammar: what the output must match, or null.</summary>
    public Api.OutputConstraint? Constraint { get; init; }
}
