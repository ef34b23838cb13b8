namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// The restore half shared by every store: fetch each file of a manifest into a hidden folder inside the destination,
/// verifying size and SHA-256 as it is written, and move the files into place only when all of them verified.
/// </summary>
internal static class RestoredFiles
{
    /// <summary>Fetches one file to the given path and returns its size and hash, or null when the source has no such file.</summary>
    public delegate Task<(long Size, string Sha256)?> Fetch(CheckpointFileEntry entry, string target, CancellationToken cancellationToken);

    /// <summary>
    /// The newest of <paramref name="committed"/> (ascending steps) that <paramref name="tryRestore"/> restores, trying older
    /// ones when a newer one does not verify; null when none does.
    /// </summary>
    public static async Task<long?> NewestAsync(IReadOnlyList<long> committed, Func<long, Task<bool>> tryRestore)
    {
        for (var i = committed.Count - 1; i >= 0; i--)
        {
            if (await tryRestore(committed[i]).ConfigureAwait(false))
            {
                return committed[i];
            }
        }

        return null;
    }

    public static async Task<bool> RestoreAsync(
        CheckpointManifest manifest, string destinationDirectory, Fetch fetch, string what, Action<string>? log, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(destinationDirectory);
        var destination = Path.GetFullPath(destinationDirectory);
        var temp = Path.Combine(destination, $".wf-restore-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            foreach (var entry in manifest.Files)
            {
                var result = await fetch(entry, Path.Combine(temp, entry.Path), cancellationToken).ConfigureAwait(false);
                var problem = result switch
                {
                    null => $"file '{entry.Path}' is missing",
                    var (size, _) when size != entry.Size => $"file '{entry.Path}' has {size} bytes, the manifest says {entry.Size}",
                    var (_, sha) when !string.Equals(sha, entry.Sha256, StringComparison.OrdinalIgnoreCase) => $"file '{entry.Path}' fails its SHA-256 check",
                    _ => null,
                };
                if (problem is not null)
                {
                    log?.Invoke($"skipping {what} (step {manifest.Step}): {problem}; trying the previous checkpoint");
                    return false;
                }
            }

            foreach (var entry in manifest.Files)
            {
                var target = Path.Combine(destination, entry.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(Path.Combine(temp, entry.Path), target, overwrite: true);
            }

            return true;
        }
        finally
        {
            DurableFiles.DeleteTree(temp);
        }
    }
}
