using WrinkleFree.Jobs.Checkpoints;

namespace WrinkleFree.Jobs;

/// <summary>Our <c>checkpoint:</c> section: the trainer's checkpoint store and cadence.</summary>
public sealed record CheckpointSpec
{
    /// <summary>A folder path or an object-store URL (s3://, r2://, gs://, az://).</summary>
    public required string Store { get; init; }

    /// <summary>COPY or MOUNT_CACHED.</summary>
    public CheckpointMode Mode { get; init; } = CheckpointMode.Copy;

    /// <summary>Save every N optimizer steps; null leaves the trainer's default.</summary>
    public int? EverySteps { get; init; }

    /// <summary>Keep the newest N checkpoints; null leaves the trainer's default.</summary>
    public int? KeepLastN { get; init; }
}
