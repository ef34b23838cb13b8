namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// Where a trainer's checkpoints live: a local folder or an object-store prefix. A checkpoint is a folder of files for one step; a save
/// is all-or-nothing, and a restore only ever returns a checkpoint whose every file checks against its manifest.
/// </summary>
public interface ICheckpointStore : IAsyncDisposable
{
    /// <summary>
    /// Stores the files under <paramref name="stagingDirectory"/> (subfolders included) as the checkpoint of
    /// <paramref name="step"/>, replacing an older checkpoint of the same step, then prunes to keep the newest N. The staging
    /// folder is only read; the caller may reuse it once this returns. In MOUNT_CACHED mode this returns once the local copy is
    /// durable and the upload continues in the background.
    /// </summary>
    Task SaveAsync(long step, string stagingDirectory, CancellationToken cancellationToken);

    /// <summary>
    /// Copies the files of the newest checkpoint that verifies into <paramref name="destinationDirectory"/> (created if needed;
    /// files of the same name are replaced) and returns its step, or null when there is no valid checkpoint. Corrupt or
    /// half-written checkpoints are skipped and reported through <see cref="CheckpointStoreOptions.Log"/>.
    /// </summary>
    Task<long?> RestoreLatestAsync(string destinationDirectory, CancellationToken cancellationToken);

    /// <summary>Steps of the committed checkpoints (those with a manifest), oldest first; checksums are not verified here.</summary>
    Task<IReadOnlyList<long>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Waits until every checkpoint saved so far is durable in its final location (a no-op for COPY stores).</summary>
    Task FlushAsync(CancellationToken cancellationToken);
}
