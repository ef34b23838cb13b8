using WrinkleFree.Inference.Sampling;
using WrinkleFree.Inference.Sampling.Constraints;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Batching;

/// <summary>What one sequence should generate: its prompt tokens, sampling, limits and stop conditions.</summary>
public sealed record GenerationRequest
{
    public required int[] PromptTokens { get; init; }

    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>
    /// Maximum tokens to generate; null = until the context limit; 0 = none: the sequence ends with
    /// <see cref="FinishReason.Length"/> right after its prompt is fed (prompt scoring with <see cref="PromptLogprobs"/>).
    /// </summary>
    public int? MaxTokens { get; init; } = 256;

    public IReadOnlyList<string> Stop { get; init; } = [];

    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Keep generating past end-of-generation tokens (benchmarks).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>
    /// Also score the prompt: the first update carries, for every prompt token, its logprob given the tokens before it
    /// (null for the first) and the most likely alternatives (echo + logprobs, as lm-evaluation-harness asks).
    /// Needs <see cref="SamplingOptions.Logprobs"/>.
    /// </summary>
    public bool PromptLogprobs { get; init; }

    /// <summary>Per-sequence context limit; null = the engine's default.</summary>
    public int? ContextLimit { get; init; }

    /// <summary>
    /// Constrained decoding (a grammar, a JSON schema): called once per sequence with the model's tokenizer; the constraint
    /// masks every draw and allows end-of-generation only where the document is complete. Null = unconstrained.
    /// </summary>
    public Func<Tokenizer, ITokenConstraint>? Constraint { get; init; }
}
