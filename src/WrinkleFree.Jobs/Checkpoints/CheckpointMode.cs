namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>How checkpoints reach a bucket, named after SkyPilot's storage modes.</summary>
public enum CheckpointMode
{
    /// <summary>Each save is written straight to its final location; SaveAsync returns once it is there.</summary>
    Copy,

    /// <summary>Each save is written to a local cache and uploaded in the background, in order; flush waits for the uploads.</summary>
    MountCached,
}
