using WrinkleFree.Inference.Sampling.Constraints;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// What a request asked its output to match (response_format json_object / json_schema, or a GBNF grammar): the compiled
/// grammar the bitnet backend enforces, and the original fields a vllm upstream is given to enforce itself.
/// </summary>
public sealed record OutputConstraint
{
    public required Grammar Grammar { get; init; }

    /// <summary>The request's response_format object as sent (chat), or null.</summary>
    public string? ResponseFormatJson { get; init; }

    /// <summary>The request's grammar text as sent, or null.</summary>
    public string? GrammarText { get; init; }
}
