using System.Globalization;
using System.Runtime.InteropServices;

namespace WrinkleFree.Training.Jobs;

/// <summary>What Linux's /proc says about a process (to tell a live controller from a reused pid), and group signals.</summary>
internal static partial class JobProcesses
{
    public const int Sigkill = 9;
    public const int Sigterm = 15;

    /// <summary>Start time (clock ticks since boot) of a live, non-zombie process, or null when there is none.</summary>
    public static long? StartTime(int pid)
    {
        var fields = LiveStatFields($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}");
        return fields is { Length: >= 20 } ? long.Parse(fields[19], CultureInfo.InvariantCulture) : null;
    }

    /// <summary>True when <paramref name="pid"/> is alive and is the process that started at <paramref name="startTime"/>.</summary>
    public static bool IsSame(int? pid, long? startTime) => pid is { } p && startTime is { } s && StartTime(p) == s;

    /// <summary>True while some live (not zombie) process is in group <paramref name="pgid"/>.</summary>
    public static bool GroupAlive(int pgid)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            if (LiveStatFields(dir) is { Length: > 2 } fields && fields[2] == pgid.ToString(CultureInfo.InvariantCulture))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The fields of <c>{processDir}/stat</c> from field 3 (state) on, or null when the process is gone or a zombie.</summary>
    private static string[]? LiveStatFields(string processDir)
    {
        string text;
        try
        {
            text = File.ReadAllText(Path.Combine(processDir, "stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // Exited while we looked.
        }

        // The command name may hold spaces and parentheses; fields count from the last ')'. Field 3 (state) is index 0.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length == 0 || fields[0] is "Z" or "X" or "x" ? null : fields;
    }

    /// <summary>Signals every process of group <paramref name="pgid"/>; a vanished group is fine.</summary>
    public static void SignalGroup(int pgid, int signal)
    {
        if (pgid > 1)
        {
            _ = kill(-pgid, signal);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
