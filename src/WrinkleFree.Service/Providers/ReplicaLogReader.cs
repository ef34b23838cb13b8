using System.Runtime.CompilerServices;
using System.Text;

namespace WrinkleFree.Service.Providers;

/// <summary>Reads a replica's log file as lines: the last N without reading the whole file, then new ones as they come.</summary>
internal static class ReplicaLogReader
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>
    /// Yields the file's lines from the <paramref name="tail"/>-th last on; with <paramref name="follow"/>, keeps polling for
    /// appended lines until <paramref name="stillWriting"/> says the writer is gone (then drains what is left).
    /// </summary>
    public static async IAsyncEnumerable<string> ReadAsync(
        string path,
        int? tail,
        bool follow,
        Func<CancellationToken, Task<bool>> stillWriting,
        TimeSpan pollInterval,
        TimeProvider time,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            yield break;
        }

        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: false);
        stream.Position = tail is { } n ? FindTailStart(stream, n) : 0;
        var buffer = new byte[ChunkSize];
        var partial = new MemoryStream();
        var lastRound = !follow;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read > 0)
            {
                var start = 0;
                for (var i = 0; i < read; i++)
                {
                    if (buffer[i] == (byte)'\n')
                    {
                        partial.Write(buffer, start, i - start);
                        yield return TakeLine(partial);
                        cancellationToken.ThrowIfCancellationRequested();
                        start = i + 1;
                    }
                }

                partial.Write(buffer, start, read - start);
                continue;
            }

            if (lastRound)
            {
                break;
            }

            // Decide before the final read, so lines written just before the writer exited are not lost.
            if (!await stillWriting(cancellationToken).ConfigureAwait(false))
            {
                lastRound = true;
                continue;
            }

            // The writer rotated its log (copy-truncate, Platform's LogRotation): what it writes now starts at offset 0.
            // A partial line held from before belongs to the copy, and is dropped with it.
            if (stream.Length < stream.Position)
            {
                stream.Position = 0;
                partial.SetLength(0);
            }

            await Task.Delay(pollInterval, time, cancellationToken).ConfigureAwait(false);
        }

        if (partial.Length > 0)
        {
            yield return TakeLine(partial);
        }
    }

    /// <summary>The offset where the last <paramref name="lines"/> lines begin (a trailing newline does not start a line).</summary>
    internal static long FindTailStart(Stream stream, int lines)
    {
        var length = stream.Length;
        if (lines <= 0)
        {
            return length;
        }

        var buffer = new byte[ChunkSize];
        var end = length;
        var seen = 0;
        while (end > 0)
        {
            var size = (int)Math.Min(ChunkSize, end);
            stream.Position = end - size;
            stream.ReadExactly(buffer, 0, size);
            for (var i = size - 1; i >= 0; i--)
            {
                var offset = end - size + i;
                if (buffer[i] != (byte)'\n')
                {
                    continue;
                }

                if (offset == length - 1)
                {
                    continue;
                }

                if (++seen == lines)
                {
                    return offset + 1;
                }
            }

            end -= size;
        }

        return 0;
    }

    private static string TakeLine(MemoryStream partial)
    {
        var span = partial.GetBuffer().AsSpan(0, (int)partial.Length);
        if (span.Length > 0 && span[^1] == (byte)'\r')
        {
            span = span[..^1];
        }

        var line = Encoding.UTF8.GetString(span);
        partial.SetLength(0);
        return line;
    }
}
