using WrinkleFree.Inference.Sampling.Constraints;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// What a request asked its output to match (response_format json_object / json_schema, or a GBNF grammar): the grammar
/// the bitnet backend enforces, compiled when first asked for, and the original fields a vllm upstream is given to
/// enforce itself (so a schema keyword this server cannot enforce but the upstream can is not refused on its way there).
/// </summary>
public sealed record OutputConstraint
{
    private Lazy<Grammar>? _grammar;

    /// <summary>The grammar; compiling it may throw the 400 that names what cannot be enforced.</summary>
    public Grammar Grammar
    {
        get => (_grammar ?? throw new InvalidOperationException("an output constraint needs Grammar or Compile")).Value;
        init => _grammar = new Lazy<Grammar>(value);
    }

    /// <summary>Compiles the grammar on first use (once; a failure is kept and thrown again).</summary>
    public Func<Grammar> Compile
    {
        init => _grammar = new Lazy<Grammar>(value, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The request's response_format object as sent (chat), or null.</summary>
    public string? ResponseFormatJson { get; init; }

    /// <summary>The request's grammar text as sent, or null.</summary>
    public string? GrammarText { get; init; }
}
