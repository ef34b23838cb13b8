namespace WrinkleFree.Inference.Batching;

/// <summary>Capacity and scheduling settings of an <see cref="InferenceEngine"/>, validated when the engine starts.</summary>
public sealed record EngineOptions
{
    /// <summary>Threads for the matmuls (the engine loop thread counts as one).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Sequences decoded together in one step.</summary>
    public int MaxSequences { get; init; } = 64;

    /// <summary>Tokens in one forward step (decode tokens plus prefill chunk).</summary>
    public int MaxBatchTokens { get; init; } = 256;

    /// <summary>Most prompt tokens one sequence feeds in a step, so prefill never starves running decodes.</summary>
    public int PrefillChunk { get; init; } = 128;

    /// <summary>Per-sequence context limit; 0 = the model's context length.</summary>
    public int ContextSize { get; init; }

    /// <summary>KV cache capacity in tokens across all sequences; 0 = MaxSequences x ContextSize capped at 64k tokens.</summary>
    public long KvCacheTokens { get; init; }

    /// <summary>Sequences waiting for a slot before new ones are refused with <see cref="EngineOverloadedException"/>.</summary>
    public int MaxQueue { get; init; } = 256;

    /// <summary>
    /// Keep full KV pages of prompts (and replies) after a sequence ends and share them with later sequences whose tokens
    /// start the same way, so those prefill only the rest.
    /// </summary>
    public bool PrefixCache { get; init; } = true;

    /// <summary>How the KV cache stores keys and values: half precision (default, as llama.cpp's f16 cache) or float32.</summary>
    public Models.KvPrecision KvPrecision { get; init; } = Models.KvPrecision.F16;

    /// <summary>
    /// Before serving, run two short requests through the engine's loop (a sampled one with logprobs, a greedy one),
    /// so the JIT compiles the engine's code while the model loads and the first request runs at warm speed. They leave
    /// no counters, no pages and nothing in the prefix cache.
    /// </summary>
    public bool WarmUp { get; init; } = true;

    public void Validate()
    {
        Check(Threads >= 1, nameof(Threads), Threads);
        Check(MaxSequences >= 1, nameof(MaxSequences), MaxSequences);
        Check(MaxBatchTokens >= MaxSequences, nameof(MaxBatchTokens), MaxBatchTokens, $">= MaxSequences ({MaxSequences})");
        Check(PrefillChunk >= 1, nameof(PrefillChunk), PrefillChunk);
        Check(ContextSize >= 0, nameof(ContextSize), ContextSize);
        Check(KvCacheTokens >= 0, nameof(KvCacheTokens), KvCacheTokens);
        Check(MaxQueue >= 0, nameof(MaxQueue), MaxQueue);
        Check(Enum.IsDefined(KvPrecision), nameof(KvPrecision), KvPrecision, "F16 or F32");

        static void Check(bool ok, string name, object value, string rule = ">= 1")
        {
            if (!ok)
            {
                throw new ArgumentException($"engine option {name} = {value} is invalid: must be {rule}", name);
            }
        }
    }
}
