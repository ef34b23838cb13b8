using System.Text;

namespace WrinkleFree.Service.Controller;

/// <summary>
/// Turns what the controller saw of a failed replica into one line a user can act on: the headline (an exit code, a probe
/// that never passed) followed by the last lines the replica wrote, where the real cause usually is ("model file ... does
/// not exist").
/// </summary>
internal static class FailureReasons
{
    private const int TailBytes = 16 * 1024;
    private const int MaxLines = 3;
    private const int ScanLines = 12;
    private const int MaxLineLength = 300;

    /// <summary>
    /// The headline plus the replica's own last <c>error:</c> line when it wrote one (wf replica ends with one naming the
    /// cause), else up to three last non-blank lines of <paramref name="logPath"/> (the launcher's banner lines skipped).
    /// </summary>
    public static string Describe(string headline, string? logPath)
    {
        var lines = LastLines(logPath);
        if (lines.FindLast(l => l.StartsWith("error:", StringComparison.OrdinalIgnoreCase)) is { } error)
            return $"{headline}: {error["error:".Length..].Trim()}";
        if (lines.Count > MaxLines)
            lines.RemoveRange(0, lines.Count - MaxLines);
        return lines.Count == 0 ? headline : $"{headline}; last output: {string.Join(" | ", lines)}";
    }

    private static List<string> LastLines(string? logPath)
    {
        var lines = new List<string>();
        if (logPath is null)
            return lines;
        try
        {
            using var file = new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var start = Math.Max(0, file.Length - TailBytes);
            file.Seek(start, SeekOrigin.Begin);
            var buffer = new byte[file.Length - start];
            file.ReadExactly(buffer);
            var text = Encoding.UTF8.GetString(buffer);
            var all = text.Split('\n');
            // A cut first line is a fragment: drop it unless the read began at the start of the file.
            for (var i = all.Length - 1; i >= (start > 0 ? 1 : 0) && lines.Count < ScanLines; i--)
            {
                var line = all[i].Trim();
                if (line.Length == 0 || line.StartsWith("--- wf:", StringComparison.Ordinal))
                    continue;
                lines.Insert(0, line.Length > MaxLineLength ? line[..MaxLineLength] + "..." : line);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No log to quote: the headline stands alone.
        }
        return lines;
    }
}
