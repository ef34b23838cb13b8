using WrinkleFree.Replica.Backends;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// A completions or chat request after validation: one <see cref="GenerationInput"/> per output choice (prompts times n,
/// prompt-major, so choice i belongs to prompt i / <see cref="N"/>), and how to shape the response.
/// </summary>
internal sealed record ParsedRequest
{
    public required string? Model { get; init; }

    public required IReadOnlyList<GenerationInput> Choices { get; init; }

    /// <summary>Choices generated per prompt: n, or best_of candidates of which the <see cref="Returned"/> best are returned.</summary>
    public int N { get; init; } = 1;

    /// <summary>Choices returned per prompt (n); fewer than <see cref="N"/> when best_of asked for more candidates.</summary>
    public int Returned { get; init; } = 1;

    public bool Stream { get; init; }

    public bool IncludeUsage { get; init; }

    /// <summary>Whether to return logprobs (chat: logprobs=true; completions: logprobs is a number).</summary>
    public bool Logprobs { get; init; }
}
