namespace WrinkleFree.Training.Stages;

/// <summary>The trainable stages; stage 1 (SubLN conversion) has no training and lives in Model/.</summary>
public enum TrainingStage
{
    /// <summary>A small full-precision model trained from scratch with the LM loss (and a fresh BPE tokenizer).</summary>
    Teacher,

    /// <summary>Layer-wise hidden-state distillation from the full-precision teacher plus the LM loss.</summary>
    Stage19,

    /// <summary>Continued pretraining with the LM loss (also the "plain ternary fine-tune" baseline on a stage-1 model).</summary>
    Stage2,

    /// <summary>Distillation fine-tuning: CE + λ·KL(T) + γ·MiniLM attention relation at one late layer.</summary>
    Stage3,
}
