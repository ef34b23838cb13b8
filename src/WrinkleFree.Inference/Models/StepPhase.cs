namespace WrinkleFree.Inference.Models;

/// <summary>The parts of a forward step that <see cref="StepProfile"/> times separately.</summary>
public enum StepPhase
{
    /// <summary>Embedding lookups and RoPE angles.</summary>
    Embed,

    /// <summary>RMSNorms (attention, FFN, sub-norms, final), residual adds and the FFN activation.</summary>
    NormsAndElementwise,

    /// <summary>The q/k/v projections.</summary>
    QkvMatmul,

    /// <summary>Q/K head norms, RoPE and the KV-cache writes.</summary>
    RopeAndCache,

    /// <summary>Scores, softmax and the weighted sum of values.</summary>
    Attention,

    /// <summary>The attention output projection.</summary>
    OutputMatmul,

    /// <summary>The gate and up projections.</summary>
    GateUpMatmul,

    /// <summary>The down projection.</summary>
    DownMatmul,

    /// <summary>The LM head (vocabulary logits).</summary>
    Head,
}
