using System.Globalization;
using System.Runtime.InteropServices;

namespace WrinkleFree.Platform.Processes;

/// <summary>What Linux's /proc says about a process, and signals to process groups.</summary>
public static partial class LinuxProcess
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

    /// <summary>util-linux's setsid, which starts a command as the leader of a new session and process group; null if absent.</summary>
    public static string? SetsidPath { get; } = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    /// <summary>Start time (clock ticks since boot) of a live, non-zombie process, or null when there is none.</summary>
    public static long? StartTime(int pid) => ReadStat(pid) is { IsDead: false } stat ? stat.StartTime : null;

    /// <summary>True when <paramref name="pid"/> is alive and is the process that started at <paramref name="startTime"/>.</summary>
    public static bool IsSame(int? pid, long? startTime) => pid is { } p && startTime is { } s && StartTime(p) == s;

    /// <summary>
    /// What <paramref name="pid"/> names now, compared with what was recorded when it was started (its start time and the
    /// boot): the same process, a zombie of it, nothing, or another process that was handed the reused pid.
    /// </summary>
    public static ProcessIdentity Identify(int? pid, long? startTime, string? bootId)
    {
        if (pid is not { } p || ReadStat(p) is not { } stat)
        {
            return ProcessIdentity.Gone;
        }

        if (stat.StartTime != startTime || (bootId is not null && bootId != BootId))
        {
            return ProcessIdentity.Reused;
        }

        return stat.IsDead ? ProcessIdentity.Zombie : ProcessIdentity.Same;
    }

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
