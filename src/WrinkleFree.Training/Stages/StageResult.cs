namespace WrinkleFree.Training.Stages;

/// <summary>What a finished stage reports (also written as training_summary.json in the output directory).</summary>
public sealed record StageResult
{
    /// <summary>The stage that ran.</summary>
    public required TrainingStage Stage { get; init; }

    /// <summary>Optimizer steps completed.</summary>
    public required long Steps { get; init; }

    /// <summary>The step the run resumed from, or null for a fresh start.</summary>
    public long? ResumedFromStep { get; init; }

    /// <summary>Held-out perplexity of the final model.</summary>
    public required double HeldOutPerplexity { get; init; }

    /// <summary>Mean training tokens per second of this process's steps.</summary>
    public required double TokensPerSecond { get; init; }

    /// <summary>The checkpoint directory written.</summary>
    public required string OutputDirectory { get; init; }
}
