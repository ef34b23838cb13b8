using System.Globalization;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// Checkpoints as <c>checkpoint-STEP/</c> folders under one local folder. A save copies into a hidden temp folder, fsyncs
/// every file, writes the manifest last, renames the folder into place and fsyncs the parent: at any instant of a crash the
/// folder either is the complete new checkpoint or does not exist.
/// </summary>
internal sealed class LocalCheckpointStore : ICheckpointStore
{
    private const string TempMarker = ".tmp-";

    private readonly CheckpointStoreOptions _options;
    private readonly Func<long, bool> _pinned;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public LocalCheckpointStore(string root, CheckpointStoreOptions options, Func<long, bool>? pinned = null)
    {
        Root = Path.GetFullPath(root);
        _options = options;
        _pinned = pinned ?? (_ => false);
    }

    /// <summary>The folder that holds the checkpoint folders.</summary>
    public string Root { get; }

    /// <summary>Test seam: called after each file of a save is written; throwing from it stands in for a crash at that point.</summary>
    internal Action<string>? AfterFileWritten { get; set; }

    public string DirectoryOf(long step) => Path.Combine(Root, CheckpointNames.Folder(step));

    public async Task SaveAsync(long step, string stagingDirectory, CancellationToken cancellationToken)
    {
        var files = CheckpointNames.StagingFiles(step, stagingDirectory);
        Directory.CreateDirectory(Root);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var temp = Path.Combine(Root, $".{CheckpointNames.Folder(step)}{TempMarker}{Guid.NewGuid():N}");
            try
            {
                var entries = new List<CheckpointFileEntry>(files.Count);
                foreach (var file in files)
                {
                    var (size, sha) = await DurableFiles.CopyAsync(Path.Combine(stagingDirectory, file), Path.Combine(temp, file), cancellationToken).ConfigureAwait(false);
                    entries.Add(new CheckpointFileEntry(file, size, sha));
                    AfterFileWritten?.Invoke(file);
                }

                Directory.CreateDirectory(temp);
                SyncTree(temp);
                var manifest = new CheckpointManifest { Step = step, Created = _options.TimeProvider.GetUtcNow(), Files = entries };
                DurableFiles.WriteAllBytes(Path.Combine(temp, CheckpointManifest.FileName), manifest.ToUtf8());
                DurableFiles.SyncDirectory(temp);
                Commit(step, temp);
            }
            catch
            {
                DurableFiles.DeleteTree(temp);
                throw;
            }

            PruneLocked();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<long?> RestoreLatestAsync(string destinationDirectory, CancellationToken cancellationToken) =>
        await RestoredFiles.NewestAsync(
            await ListAsync(cancellationToken).ConfigureAwait(false),
            step => TryRestoreAsync(step, destinationDirectory, cancellationToken)).ConfigureAwait(false);

    public Task<IReadOnlyList<long>> ListAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IReadOnlyList<long>>(ListCommitted());
    }

    public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Restores one step if its manifest parses and every file verifies; otherwise logs why and returns false.</summary>
    internal async Task<bool> TryRestoreAsync(long step, string destinationDirectory, CancellationToken cancellationToken)
    {
        var folder = DirectoryOf(step);
        var manifest = await ReadManifestAsync(step, cancellationToken).ConfigureAwait(false);
        if (manifest is null)
        {
            return false;
        }

        return await RestoredFiles.RestoreAsync(
            manifest,
            destinationDirectory,
            async (entry, target, ct) =>
            {
                var source = Path.Combine(folder, entry.Path);
                if (!File.Exists(source))
                {
                    return null;
                }

                return await DurableFiles.CopyAsync(source, target, ct).ConfigureAwait(false);
            },
            $"checkpoint {folder}",
            _options.Log,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The parsed manifest of a committed step, or null (logged) when it is missing or unreadable.</summary>
    internal async Task<CheckpointManifest?> ReadManifestAsync(long step, CancellationToken cancellationToken)
    {
        var path = Path.Combine(DirectoryOf(step), CheckpointManifest.FileName);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _options.Log?.Invoke($"skipping checkpoint {DirectoryOf(step)}: cannot read its manifest ({e.Message})");
            return null;
        }

        var manifest = CheckpointManifest.TryParse(bytes, step, out var problem);
        if (manifest is null)
        {
            _options.Log?.Invoke($"skipping checkpoint {DirectoryOf(step)}: {problem}");
        }

        return manifest;
    }

    /// <summary>Deletes all but the newest N committed checkpoints (never a pinned one) and any abandoned temp folder.</summary>
    internal async Task PruneAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            PruneLocked();
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Commit(long step, string temp)
    {
        var final = DirectoryOf(step);
        string? replaced = null;
        if (Directory.Exists(final))
        {
            // Re-saving a step: the old folder steps aside first, since a rename cannot replace a non-empty folder.
            replaced = Path.Combine(Root, $".{CheckpointNames.Folder(step)}.old-{Guid.NewGuid():N}");
            Directory.Move(final, replaced);
        }

        Directory.Move(temp, final);
        DurableFiles.SyncDirectory(Root);
        if (replaced is not null)
        {
            DurableFiles.DeleteTree(replaced);
        }
    }

    private void PruneLocked()
    {
        // Leftovers of saves a crash interrupted; no save is running (we hold the gate), so none of them is live.
        foreach (var dir in Directory.EnumerateDirectories(Root, "." + CheckpointNames.Prefix + "*"))
        {
            DurableFiles.DeleteTree(dir);
        }

        if (_options.KeepLastN <= 0)
        {
            return;
        }

        var steps = ListCommitted();
        foreach (var step in steps.Take(Math.Max(0, steps.Count - _options.KeepLastN)))
        {
            if (_pinned(step))
            {
                continue;
            }

            // The manifest goes first: a crash mid-delete leaves an uncommitted folder, never a "valid" partial one.
            var folder = DirectoryOf(step);
            File.Delete(Path.Combine(folder, CheckpointManifest.FileName));
            DurableFiles.SyncDirectory(folder);
            DurableFiles.DeleteTree(folder);
            _options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"pruned checkpoint {folder} (keep_last_n {_options.KeepLastN})"));
        }
    }

    private List<long> ListCommitted()
    {
        var steps = new List<long>();
        if (!Directory.Exists(Root))
        {
            return steps;
        }

        foreach (var dir in Directory.EnumerateDirectories(Root, CheckpointNames.Prefix + "*"))
        {
            if (CheckpointNames.StepOf(Path.GetFileName(dir)) is { } step && File.Exists(Path.Combine(dir, CheckpointManifest.FileName)))
            {
                steps.Add(step);
            }
        }

        steps.Sort();
        return steps;
    }

    /// <summary>Fsyncs every folder in a tree, deepest first, so each new file's directory entry is durable.</summary>
    private static void SyncTree(string root)
    {
        var dirs = Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).ToList();
        foreach (var dir in dirs)
        {
            DurableFiles.SyncDirectory(dir);
        }

        DurableFiles.SyncDirectory(root);
    }
}
