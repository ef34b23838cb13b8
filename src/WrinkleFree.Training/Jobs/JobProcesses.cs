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
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // The command name may hold spaces and parentheses; fields count from the last ')'. Field 3 (state) is index 0.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 20 || fields[0] is "Z" or "X" or "x")
        {
            return null;
        }

        return long.Parse(fields[19], CultureInfo.InvariantCulture);
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

            try
            {
                var text = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 2 && fields[2] == pgid.ToString(CultureInfo.InvariantCulture) && fields[0] is not ("Z" or "X" or "x"))
                {
                    return true;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Exited while we looked.
            }
        }

        return false;
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
