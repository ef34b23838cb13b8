using System.Globalization;
using System.Runtime.InteropServices;

namespace WrinkleFree.Service.Providers;

/// <summary>What Linux's /proc says about a process, and signals to process groups.</summary>
internal static partial class LinuxProcess
{
    public const int Sigkill = 9;
    public const int Sigterm = 15;

    private static readonly Lazy<string?> CurrentBootId = new(() =>
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    });

    /// <summary>This boot's id, or null where the kernel does not expose it.</summary>
    public static string? BootId => CurrentBootId.Value;

    /// <summary>The fields of /proc/PID/stat we use, or null when the process does not exist (any more).</summary>
    public static ProcStat? ReadStat(int pid)
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

        return ParseStat(text);
    }

    /// <summary>Parses one /proc/PID/stat line; the command name may hold spaces and parentheses, so fields count from the last ')'.</summary>
    public static ProcStat? ParseStat(string text)
    {
        var close = text.LastIndexOf(')');
        if (close < 0 || close + 2 >= text.Length)
        {
            return null;
        }

        // After ") ": field 3 (state) is index 0, so field N is index N - 3.
        var fields = text[(close + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 20
            || !int.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pgrp)
            || !long.TryParse(fields[19], NumberStyles.Integer, CultureInfo.InvariantCulture, out var start))
        {
            return null;
        }

        return new ProcStat(fields[0][0], pgrp, start);
    }

    /// <summary>True while some live (not zombie) process is in process group <paramref name="pgid"/>.</summary>
    public static bool GroupAlive(int pgid)
    {
        // Members are not our children (and after a restart neither is the leader), so they cannot be waited for; and an
        // init that does not reap leaves zombies that kill(-pgid, 0) still counts. /proc shows the truth.
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir.AsSpan());
            if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && ReadStat(pid) is { } stat && stat.Pgrp == pgid && !stat.IsDead)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Sends <paramref name="signal"/> to every process in group <paramref name="pgid"/>; a vanished group is fine.</summary>
    public static void SignalGroup(int pgid, int signal)
    {
        if (pgid > 1)
        {
            _ = kill(-pgid, signal);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    /// <summary>State letter (R, S, D, Z, X...), process group and start time in clock ticks since boot.</summary>
    public readonly record struct ProcStat(char State, int Pgrp, long StartTime)
    {
        public bool IsDead => State is 'Z' or 'X' or 'x';
    }
}
