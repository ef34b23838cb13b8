namespace WrinkleFree.Training.Observability;

/// <summary>One logging step of a training run: the JSONL line and the Prometheus gauges are both made from it.</summary>
public sealed record TrainingMetricsRecord
{
    /// <summary>The stage ("teacher", "stage1.9", "stage2", "stage3", "ternary-ft").</summary>
    public required string Stage { get; init; }

    /// <summary>Optimizer steps completed.</summary>
    public required long Step { get; init; }

    /// <summary>The run's total steps.</summary>
    public required long TotalSteps { get; init; }

    /// <summary>Loss terms of this step by name ("loss" is the total that was back-propagated).</summary>
    public required IReadOnlyDictionary<string, double> Losses { get; init; }

    /// <summary>Learning rate used for this step.</summary>
    public double LearningRate { get; init; }

    /// <summary>BitLinear warm-up λ (1 for fully ternary, 0 for full precision).</summary>
    public double Lambda { get; init; }

    /// <summary>Training tokens per second since the previous record.</summary>
    public double TokensPerSecond { get; init; }

    /// <summary>Gradient norm before clipping.</summary>
    public double GradNorm { get; init; }

    /// <summary>Training tokens consumed so far.</summary>
    public long TokensSeen { get; init; }

    /// <summary>Epochs of the training data completed (fractional).</summary>
    public double EpochProgress { get; init; }

    /// <summary>Size of the checkpoint written at this step, or null when none was.</summary>
    public long? CheckpointBytes { get; init; }

    /// <summary>Seconds that checkpoint took to write and hand to the store, or null.</summary>
    public double? CheckpointSeconds { get; init; }

    /// <summary>Held-out perplexity measured at this step, or null.</summary>
    public double? HeldOutPerplexity { get; init; }

    /// <summary>Process or GPU statistics sampled for this record.</summary>
    public SystemStats? System { get; init; }
}
