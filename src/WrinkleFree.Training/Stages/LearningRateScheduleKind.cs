namespace WrinkleFree.Training.Stages;

/// <summary>Shape of the learning rate after warm-up.</summary>
public enum LearningRateScheduleKind
{
    /// <summary>Flat at the peak.</summary>
    Constant,

    /// <summary>Cosine decay from the peak to the minimum over the remaining steps.</summary>
    Cosine,

    /// <summary>Warmup-stable-decay: flat at the peak, then linear decay to the minimum over the last decay fraction.</summary>
    Wsd,
}
