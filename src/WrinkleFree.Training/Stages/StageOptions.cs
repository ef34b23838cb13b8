using WrinkleFree.Training.Data;
using WrinkleFree.Jobs.Checkpoints;

namespace WrinkleFree.Training.Stages;

/// <summary>Everything one stage run needs: data, model inputs, optimisation, checkpoints and metrics (the CLI's options).</summary>
public sealed record StageOptions
{
    /// <summary>Training text.</summary>
    public DataSource Data { get; init; } = DataSource.Brown;

    /// <summary>Output checkpoint directory (config.json, model.safetensors, tokenizer.json, training_summary.json).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The model to train (stage1.9/2/3): a checkpoint directory; ignored by the teacher stage.</summary>
    public string? ModelDirectory { get; init; }

    /// <summary>The full-precision teacher checkpoint (stage1.9 and stage3).</summary>
    public string? TeacherDirectory { get; init; }

    /// <summary>Tokens per packed sequence.</summary>
    public int SequenceLength { get; init; } = 128;

    /// <summary>Sequences per micro-batch.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Micro-batches whose gradients are summed before each optimizer step.</summary>
    public int GradientAccumulation { get; init; } = 1;

    /// <summary>Optimizer steps.</summary>
    public long Steps { get; init; } = 100;

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Schedule after warm-up.</summary>
    public LearningRateScheduleKind Schedule { get; init; } = LearningRateScheduleKind.Cosine;

    /// <summary>Warm-up steps of the learning rate.</summary>
    public long WarmupSteps { get; init; } = 10;

    /// <summary>Final learning rate as a fraction of the peak.</summary>
    public double MinLearningRateRatio { get; init; } = 0.1;

    /// <summary>WSD: fraction of the post-warm-up steps spent decaying.</summary>
    public double DecayFraction { get; init; } = 0.2;

    /// <summary>AdamW weight decay.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>AdamW β1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW β2.</summary>
    public double Beta2 { get; init; } = 0.95;

    /// <summary>Gradient-norm clip (0 disables).</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>Steps over which BitLinear λ rises 0→1 (0: fully ternary from the first step).</summary>
    public long LambdaWarmupSteps { get; init; }

    /// <summary>Seed of torch and of the data order.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Torch intra-op threads (0: torch's default).</summary>
    public int Threads { get; init; }

    /// <summary>Bitwise reproducible runs and resumes: torch on one intra-op thread (see StageTrainer for why that suffices on CPU).</summary>
    public bool Deterministic { get; init; }

    /// <summary>Where checkpoints go: a folder or s3://bucket/prefix; default OutputDirectory/checkpoints.</summary>
    public string? CheckpointStore { get; init; }

    /// <summary>COPY or MOUNT_CACHED.</summary>
    public CheckpointMode CheckpointMode { get; init; } = CheckpointMode.Copy;

    /// <summary>Checkpoint every N steps (0: none, so no resume).</summary>
    public int CheckpointEvery { get; init; } = 100;

    /// <summary>Checkpoints kept.</summary>
    public int KeepLastN { get; init; } = 2;

    /// <summary>Metrics JSONL file (a .prom file is written beside it).</summary>
    public string? MetricsJsonl { get; init; }

    /// <summary>Prometheus port on 127.0.0.1.</summary>
    public int? MetricsPort { get; init; }

    /// <summary>Log a metrics record every N steps (and at the last).</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Measure held-out perplexity every N steps (0: only at the end).</summary>
    public int EvalEvery { get; init; }

    /// <summary>Held-out batches per perplexity measurement (0: every held-out sequence).</summary>
    public int EvalBatches { get; init; } = 40;

    /// <summary>Fraction of documents held out.</summary>
    public double HeldOutFraction { get; init; } = 0.05;

    /// <summary>Machine-readable output (JSON lines instead of the progress bar).</summary>
    public bool Json { get; init; }

    /// <summary>Teacher stage: the architecture of the fresh model (vocab_size is replaced by the trained tokenizer's).</summary>
    public TeacherShape Teacher { get; init; } = new();

    /// <summary>Stage 1.9: weight of the hidden-state distillation term next to the LM loss.</summary>
    public double HiddenStateWeight { get; init; } = 1.0;

    /// <summary>Stage 3: λ (logit KL weight).</summary>
    public double KlWeight { get; init; } = 10;

    /// <summary>Stage 3: γ (attention-relation weight).</summary>
    public double AttentionRelationWeight { get; init; } = 1e5;

    /// <summary>Stage 3: KL temperature.</summary>
    public double Temperature { get; init; } = 5;

    /// <summary>Stage 3: the layer of the attention-relation loss (null: the last).</summary>
    public int? AttentionRelationLayer { get; init; }

    /// <summary>Stage 3: relation heads the concatenated Q/K/V dimension is split into.</summary>
    public int RelationHeads { get; init; } = 4;

    /// <summary>Clock for metrics and throughput.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where progress lines go when not interactive (null: the console).</summary>
    public TextWriter? Output { get; init; }
}
