using System.Globalization;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// Checkpoints as objects <c>PREFIX/checkpoint-STEP/FILE</c> in a bucket (S3, R2, GCS) or container (Azure Blob). The
/// manifest object is uploaded last and its presence commits the checkpoint; old checkpoints are pruned only after that.
/// Every request is retried with doubling backoff; errors retrying cannot fix (no bucket, bad credentials) surface at once.
/// Providers supply only the object primitives and the classification of their errors.
/// </summary>
internal abstract partial class ObjectCheckpointStore : ICheckpointStore
{
    private readonly CheckpointStoreOptions _options;

    protected ObjectCheckpointStore(CheckpointLocation location, CheckpointStoreOptions options)
    {
        Location = location;
        _options = options;
    }

    public CheckpointLocation Location { get; }

    /// <summary>Test seam: called after each object of a save is uploaded; throwing from it stands in for a crash there.</summary>
    internal Action<string>? AfterObjectUploaded { get; set; }

    /// <summary>Where requests go, for error messages (an endpoint URL, or the provider and region).</summary>
    protected abstract string EndpointText { get; }

    public async Task SaveAsync(long step, string stagingDirectory, CancellationToken cancellationToken)
    {
        var files = CheckpointNames.StagingFiles(step, stagingDirectory);
        var entries = new List<CheckpointFileEntry>(files.Count);
        foreach (var file in files)
        {
            var (size, sha) = await DurableFiles.HashAsync(Path.Combine(stagingDirectory, file), cancellationToken).ConfigureAwait(false);
            entries.Add(new CheckpointFileEntry(file, size, sha));
        }

        var manifest = new CheckpointManifest { Step = step, Created = _options.TimeProvider.GetUtcNow(), Files = entries };
        await UploadAsync(manifest, stagingDirectory, cancellationToken).ConfigureAwait(false);
        await PruneAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<long?> RestoreLatestAsync(string destinationDirectory, CancellationToken cancellationToken) =>
        await RestoredFiles.NewestAsync(
            await ListAsync(cancellationToken).ConfigureAwait(false),
            step => TryRestoreAsync(step, destinationDirectory, cancellationToken)).ConfigureAwait(false);

    public async Task<IReadOnlyList<long>> ListAsync(CancellationToken cancellationToken) =>
        (await ListFoldersAsync(cancellationToken).ConfigureAwait(false)).Where(f => f.Value.Committed).Select(f => f.Key).Order().ToList();

    public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public abstract ValueTask DisposeAsync();

    /// <summary>
    /// Uploads the files of <paramref name="manifest"/> from <paramref name="sourceDirectory"/>, then the manifest. An older
    /// checkpoint of the same step is uncommitted first (its manifest deleted) so it never lists files it no longer has.
    /// </summary>
    internal async Task UploadAsync(CheckpointManifest manifest, string sourceDirectory, CancellationToken cancellationToken)
    {
        var prefix = Location.CheckpointPrefix(manifest.Step);
        var manifestKey = prefix + CheckpointManifest.FileName;
        await RetryAsync($"delete {Location.Describe(manifestKey)}", ct => DeleteObjectAsync(manifestKey, ct), cancellationToken).ConfigureAwait(false);
        foreach (var entry in manifest.Files)
        {
            var key = prefix + entry.Path;
            var path = Path.Combine(sourceDirectory, entry.Path);
            await RetryAsync($"upload {path} to {Location.Describe(key)}", ct => PutFileAsync(key, path, ct), cancellationToken).ConfigureAwait(false);
            AfterObjectUploaded?.Invoke(entry.Path);
        }

        var bytes = manifest.ToUtf8();
        await RetryAsync($"upload the manifest {Location.Describe(manifestKey)}", ct => PutBytesAsync(manifestKey, bytes, "application/json", ct), cancellationToken).ConfigureAwait(false);

        // Objects an older save of this step left that the new manifest does not list.
        var folders = await ListFoldersAsync(cancellationToken).ConfigureAwait(false);
        if (folders.TryGetValue(manifest.Step, out var folder))
        {
            var wanted = manifest.Files.Select(f => prefix + f.Path).Append(manifestKey).ToHashSet(StringComparer.Ordinal);
            await DeleteKeysAsync(folder.Keys.Where(k => !wanted.Contains(k)), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Restores one step if its manifest parses and every object verifies; otherwise logs why and returns false.</summary>
    internal async Task<bool> TryRestoreAsync(long step, string destinationDirectory, CancellationToken cancellationToken)
    {
        var prefix = Location.CheckpointPrefix(step);
        var what = $"checkpoint {Location.Describe(prefix)}";
        byte[]? bytes = null;
        await RetryAsync($"download {Location.Describe(prefix + CheckpointManifest.FileName)}", async ct =>
        {
            using var memory = new MemoryStream();
            bytes = await ReadObjectAsync(prefix + CheckpointManifest.FileName, memory, ct).ConfigureAwait(false) ? memory.ToArray() : null;
        }, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            _options.Log?.Invoke($"skipping {what}: its manifest is gone");
            return false;
        }

        var manifest = CheckpointManifest.TryParse(bytes, step, out var problem);
        if (manifest is null)
        {
            _options.Log?.Invoke($"skipping {what}: {problem}");
            return false;
        }

        return await RestoredFiles.RestoreAsync(manifest, destinationDirectory, async (entry, target, ct) =>
        {
            (long, string)? result = null;
            await RetryAsync($"download {Location.Describe(prefix + entry.Path)}", async inner =>
            {
                if (File.Exists(target))
                {
                    File.Delete(target);
                }

                result = await DurableFiles.WriteAsync(target, (output, c) => ReadObjectAsync(prefix + entry.Path, output, c), inner).ConfigureAwait(false);
            }, ct).ConfigureAwait(false);
            return result;
        }, what, _options.Log, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes all but the newest N committed checkpoints, and abandoned uploads older than the newest commit.</summary>
    internal async Task PruneAsync(CancellationToken cancellationToken)
    {
        var folders = await ListFoldersAsync(cancellationToken).ConfigureAwait(false);
        var committed = folders.Where(f => f.Value.Committed).Select(f => f.Key).Order().ToList();
        if (committed.Count == 0)
        {
            return;
        }

        var newest = committed[^1];
        var doomed = _options.KeepLastN > 0 ? committed.Take(Math.Max(0, committed.Count - _options.KeepLastN)).ToList() : [];
        doomed.AddRange(folders.Where(f => !f.Value.Committed && f.Key < newest).Select(f => f.Key));
        foreach (var step in doomed)
        {
            // The manifest goes first: a crash mid-delete leaves an uncommitted prefix, never a "valid" partial one.
            var prefix = Location.CheckpointPrefix(step);
            var manifestKey = prefix + CheckpointManifest.FileName;
            await DeleteKeysAsync(folders[step].Keys.Where(k => k == manifestKey), cancellationToken).ConfigureAwait(false);
            await DeleteKeysAsync(folders[step].Keys.Where(k => k != manifestKey), cancellationToken).ConfigureAwait(false);
            _options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"pruned checkpoint {Location.Describe(prefix)}"));
        }
    }

    /// <summary>Every key under <paramref name="prefix"/>, in the provider's (lexicographic) order.</summary>
    internal async Task<List<string>> KeysAsync(string prefix, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            var from = token;
            await RetryAsync($"list {Location.Describe(prefix)}", async ct =>
            {
                var page = await ListPageAsync(prefix, from, ct).ConfigureAwait(false);
                keys.AddRange(page.Keys);
                token = page.Next;
            }, cancellationToken).ConfigureAwait(false);
        }
        while (token is not null);
        return keys;
    }

    /// <summary>Uploads a local file as <paramref name="key"/>, replacing any object of that name.</summary>
    protected abstract Task PutFileAsync(string key, string path, CancellationToken cancellationToken);

    /// <summary>Uploads <paramref name="bytes"/> as <paramref name="key"/>, replacing any object of that name.</summary>
    protected abstract Task PutBytesAsync(string key, byte[] bytes, string contentType, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the object's content to <paramref name="destination"/>; false, with nothing written, when there is no such
    /// object. A stream to write to suits every SDK (GCS's client only downloads into one).
    /// </summary>
    protected abstract Task<bool> ReadObjectAsync(string key, Stream destination, CancellationToken cancellationToken);

    /// <summary>One page of keys under <paramref name="prefix"/>; <c>Next</c> is null on the last page.</summary>
    protected abstract Task<(IReadOnlyList<string> Keys, string? Next)> ListPageAsync(string prefix, string? pageToken, CancellationToken cancellationToken);

    /// <summary>Deletes <paramref name="key"/>; an object already gone is not an error.</summary>
    protected abstract Task DeleteObjectAsync(string key, CancellationToken cancellationToken);

    private async Task<Dictionary<long, Folder>> ListFoldersAsync(CancellationToken cancellationToken)
    {
        var folders = new Dictionary<long, Folder>();
        var skip = Location.Prefix.Length == 0 ? 0 : Location.Prefix.Length + 1;
        foreach (var key in await KeysAsync(Location.ListPrefix, cancellationToken).ConfigureAwait(false))
        {
            var rest = key[skip..];
            var slash = rest.IndexOf('/');
            if (slash < 0 || CheckpointNames.StepOf(rest[..slash]) is not { } step)
            {
                continue;
            }

            if (!folders.TryGetValue(step, out var folder))
            {
                folders[step] = folder = new Folder();
            }

            folder.Keys.Add(key);
            folder.Committed |= rest[(slash + 1)..] == CheckpointManifest.FileName;
        }

        return folders;
    }

    private async Task DeleteKeysAsync(IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        foreach (var key in keys.ToList())
        {
            await RetryAsync($"delete {Location.Describe(key)}", ct => DeleteObjectAsync(key, ct), cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class Folder
    {
        public List<string> Keys { get; } = [];

        public bool Committed { get; set; }
    }
}
