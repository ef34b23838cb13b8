namespace WrinkleFree.Platform.Files;

/// <summary>
/// Replaces a file all at once: the content goes to a temp file in the same folder, is flushed to disk, and is renamed
/// over the target, so a reader (or a crash) sees the old file or the new one, never half of one. Used for every model,
/// checkpoint, config and metrics file the project writes.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes the file through <paramref name="write"/>; <paramref name="mode"/> sets its Unix permissions.</summary>
    public static void Write(string path, Action<Stream> write, UnixFileMode? mode = null)
    {
        ArgumentNullException.ThrowIfNull(write);
        var (full, temp) = Begin(path);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            Commit(temp, full, mode);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8.</summary>
    public static void WriteAllText(string path, string text, UnixFileMode? mode = null) =>
        Write(path, s => s.Write(System.Text.Encoding.UTF8.GetBytes(text)), mode);

    /// <summary>The asynchronous form, for writers that stream (metrics exports).</summary>
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        var (full, temp) = Begin(path);
        try
        {
            await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            Commit(temp, full, null);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>The target's full path and the temp file beside it (its folder created).</summary>
    private static (string Full, string Temp) Begin(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return (full, full + $".tmp-{Environment.ProcessId}");
    }

    private static void Commit(string temp, string full, UnixFileMode? mode)
    {
        if (mode is { } m && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, m);
        }

        File.Move(temp, full, overwrite: true);
    }
}
