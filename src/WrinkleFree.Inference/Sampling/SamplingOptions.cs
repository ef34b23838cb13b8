namespace WrinkleFree.Inference.Sampling;

/// <summary>
/// How the next token is chosen from a logit vector. Stages run in llama.cpp's default order:
/// penalties, top-k, top-p, min-p, temperature, then a seeded draw. Call <see cref="Validate"/> once at the edge.
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>The most alternatives a caller may ask for, as in the OpenAI API.</summary>
    public const int MaxTopLogprobs = 20;

    /// <summary>Divides the logits before the draw; 0 picks the argmax (ties go to the lowest token id).</summary>
    public float Temperature { get; init; } = 1;

    /// <summary>Keeps only the <c>TopK</c> most likely tokens; 0 turns the stage off.</summary>
    public int TopK { get; init; }

    /// <summary>Keeps the smallest set of most likely tokens whose probability reaches <c>TopP</c>; 1 turns it off.</summary>
    public float TopP { get; init; } = 1;

    /// <summary>Drops tokens whose probability is below <c>MinP</c> times the most likely token's; 0 turns it off.</summary>
    public float MinP { get; init; }

    /// <summary>CTRL-style penalty on tokens seen in the window: a positive logit is divided by it, a negative one multiplied; 1 is off.</summary>
    public float RepetitionPenalty { get; init; } = 1;

    /// <summary>Subtracted once from the logit of every token seen in the window (OpenAI semantics).</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Subtracted from a token's logit once per occurrence in the window (OpenAI semantics).</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>How many of the most recent history tokens the penalties look at; -1 means the whole history, 0 none.</summary>
    public int PenaltyWindow { get; init; } = 64;

    /// <summary>
    /// Seed of the random source: the same seed over the same logits gives the same tokens (on the same CPU family, since
    /// vectorized exp/sum may round differently across instruction sets). Null seeds randomly, once per sampler.
    /// </summary>
    public ulong? Seed { get; init; }

    /// <summary>How many most likely alternatives to report with each token (requires <see cref="Logprobs"/>).</summary>
    public int TopLogprobs { get; init; }

    /// <summary>Whether to compute the log-probability of each chosen token.</summary>
    public bool Logprobs { get; init; }

    /// <summary>
    /// Added to the logits of the given token ids before every other stage (OpenAI's <c>logit_bias</c>): -100 in effect
    /// bans a token, 100 all but forces it. Logprobs are reported under the biased distribution, as OpenAI does.
    /// </summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>The largest bias magnitude, as in the OpenAI API.</summary>
    public const float MaxLogitBias = 100;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first field outside its allowed range.</summary>
    public void Validate()
    {
        // Comparisons are written so that NaN fails every check.
        if (!(Temperature >= 0 && float.IsFinite(Temperature)))
        {
            throw Bad(nameof(Temperature), Temperature, "a finite number >= 0 (0 = greedy)");
        }

        if (TopK < 0)
        {
            throw Bad(nameof(TopK), TopK, ">= 0 (0 = off)");
        }

        if (!(TopP > 0 && TopP <= 1))
        {
            throw Bad(nameof(TopP), TopP, "in (0, 1] (1 = off)");
        }

        if (!(MinP >= 0 && MinP <= 1))
        {
            throw Bad(nameof(MinP), MinP, "in [0, 1] (0 = off)");
        }

        if (!(RepetitionPenalty > 0 && float.IsFinite(RepetitionPenalty)))
        {
            throw Bad(nameof(RepetitionPenalty), RepetitionPenalty, "a finite number > 0 (1 = off)");
        }

        if (!(PresencePenalty >= -2 && PresencePenalty <= 2))
        {
            throw Bad(nameof(PresencePenalty), PresencePenalty, "in [-2, 2]");
        }

        if (!(FrequencyPenalty >= -2 && FrequencyPenalty <= 2))
        {
            throw Bad(nameof(FrequencyPenalty), FrequencyPenalty, "in [-2, 2]");
        }

        if (PenaltyWindow < -1)
        {
            throw Bad(nameof(PenaltyWindow), PenaltyWindow, ">= -1 (-1 = whole history)");
        }

        if (TopLogprobs < 0 || TopLogprobs > MaxTopLogprobs)
        {
            throw Bad(nameof(TopLogprobs), TopLogprobs, $"in [0, {MaxTopLogprobs}]");
        }

        if (LogitBias is not null)
        {
            foreach (var (id, bias) in LogitBias)
            {
                if (id < 0 || !(bias >= -MaxLogitBias && bias <= MaxLogitBias))
                {
                    throw new ArgumentException($"{nameof(LogitBias)} maps token {id} to {bias}; ids must be >= 0 and biases in [-{MaxLogitBias}, {MaxLogitBias}]", nameof(LogitBias));
                }
            }
        }

        if (TopLogprobs > 0 && !Logprobs)
        {
            throw new ArgumentException($"{nameof(TopLogprobs)} is {TopLogprobs} but {nameof(Logprobs)} is false; alternatives need {nameof(Logprobs)} = true", nameof(TopLogprobs));
        }
    }

    private static ArgumentException Bad(string field, object value, string range) =>
        new($"{field} is {value} but must be {range}", field);
}
