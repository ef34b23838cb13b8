using WrinkleFree.Service.Providers;

namespace WrinkleFree.Training.Jobs;

/// <summary>
/// The job controller's view of processes: Serve's <see cref="LinuxProcess"/> (/proc parsing and group signals, compiled
/// into this assembly as a linked source file because Training may not reference Serve), plus start-time identity.
/// </summary>
internal static class JobProcesses
{
    public const int Sigkill = LinuxProcess.Sigkill;
    public const int Sigterm = LinuxProcess.Sigterm;

    /// <summary>Start time (clock ticks since boot) of a live, non-zombie process, or null when there is none.</summary>
    public static long? StartTime(int pid) => LinuxProcess.ReadStat(pid) is { IsDead: false } stat ? stat.StartTime : null;

    /// <summary>True when <paramref name="pid"/> is alive and is the process that started at <paramref name="startTime"/>.</summary>
    public static bool IsSame(int? pid, long? startTime) => pid is { } p && startTime is { } s && StartTime(p) == s;

    /// <summary>True while some live (not zombie) process is in group <paramref name="pgid"/>.</summary>
    public static bool GroupAlive(int pgid) => LinuxProcess.GroupAlive(pgid);

    /// <summary>Signals every process of group <paramref name="pgid"/>; a vanished group is fine.</summary>
    public static void SignalGroup(int pgid, int signal) => LinuxProcess.SignalGroup(pgid, signal);
}
