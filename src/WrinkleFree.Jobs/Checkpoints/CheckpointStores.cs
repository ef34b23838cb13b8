using WrinkleFree.Platform.Home;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>Opens the checkpoint store an options record describes.</summary>
public static class CheckpointStores
{
    /// <summary>
    /// A local folder store for a path; for <c>s3://bucket/prefix</c> an S3 store that writes straight through (COPY) or
    /// through a local cache with background uploads (MOUNT_CACHED). Throws <see cref="CheckpointStoreException"/> for bad options.
    /// </summary>
    public static ICheckpointStore Open(CheckpointStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Location))
        {
            throw new CheckpointStoreException("checkpoint store location is empty; give a folder path or s3://bucket/prefix");
        }

        if (options.KeepLastN < 0)
        {
            throw new CheckpointStoreException($"keep_last_n must be 0 (keep all) or more, got {options.KeepLastN}");
        }

        if (options.MaxAttempts < 1)
        {
            throw new CheckpointStoreException($"MaxAttempts must be at least 1, got {options.MaxAttempts}");
        }

        if (!options.IsS3)
        {
            if (options.Location.Contains("://", StringComparison.Ordinal))
            {
                throw new CheckpointStoreException($"checkpoint store '{options.Location}' is neither a folder path nor s3://bucket/prefix");
            }

            return new LocalCheckpointStore(options.Location, options);
        }

        var location = S3Location.Parse(options.Location);
        var remote = new S3CheckpointStore(location, options);
        if (options.Mode == CheckpointMode.Copy)
        {
            return remote;
        }

        var cache = options.CacheDirectory ?? Path.Combine(WfHome.Path, "cache", "checkpoints", location.Bucket, location.Prefix.Replace('/', Path.DirectorySeparatorChar));
        return new MountCachedCheckpointStore(cache, remote, options);
    }
}
