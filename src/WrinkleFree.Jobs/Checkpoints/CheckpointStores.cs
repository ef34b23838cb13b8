using WrinkleFree.Platform.Home;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>Opens the checkpoint store an options record describes.</summary>
public static class CheckpointStores
{
    /// <summary>
    /// A local folder store for a path; for <c>s3://</c>, <c>r2://</c>, <c>gs://</c> or <c>az://</c> an object store that
    /// writes straight through (COPY) or through a local cache with background uploads (MOUNT_CACHED). Throws
    /// <see cref="CheckpointStoreException"/> for bad options, an unsupported scheme among them.
    /// </summary>
    public static ICheckpointStore Open(CheckpointStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Location))
        {
            throw new CheckpointStoreException($"checkpoint store location is empty; give {CheckpointLocation.Supported}");
        }

        if (options.KeepLastN < 0)
        {
            throw new CheckpointStoreException($"keep_last_n must be 0 (keep all) or more, got {options.KeepLastN}");
        }

        if (options.MaxAttempts < 1)
        {
            throw new CheckpointStoreException($"MaxAttempts must be at least 1, got {options.MaxAttempts}");
        }

        if (!options.Location.Contains("://", StringComparison.Ordinal))
        {
            return new LocalCheckpointStore(options.Location, options);
        }

        var location = CheckpointLocation.Parse(options.Location);
        ObjectCheckpointStore remote = location.Scheme switch
        {
            "gs" => new GcsCheckpointStore(location, options),
            "az" => new AzureBlobCheckpointStore(location, options),
            _ => new S3CheckpointStore(location, options),
        };
        if (options.Mode == CheckpointMode.Copy)
        {
            return remote;
        }

        // s3:// keeps the folder it always had (a cache may hold checkpoints not yet uploaded); the other schemes get their
        // own level so a GCS bucket and an S3 bucket of the same name never share a cache.
        string[] root = location.Scheme == "s3" ? [location.Bucket] : [location.Scheme, .. location.Account is null ? [] : new[] { location.Account }, location.Bucket];
        var cache = options.CacheDirectory ?? Path.Combine(
            [WfHome.Path, "cache", "checkpoints", .. root, .. location.Prefix.Split('/', StringSplitOptions.RemoveEmptyEntries)]);
        return new MountCachedCheckpointStore(cache, remote, options);
    }

    /// <summary>Why <paramref name="location"/> cannot name a checkpoint store (one line listing the supported forms), or null when it can.</summary>
    public static string? Problem(string location) => CheckpointLocation.Problem(location);

    /// <summary>True for an object-store URL (resolved as given), false for a folder path (resolved against a working folder).</summary>
    public static bool IsObjectStore(string location) => location.Contains("://", StringComparison.Ordinal);
}
