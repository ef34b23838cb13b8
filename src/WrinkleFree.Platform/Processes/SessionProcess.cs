using System.Diagnostics;

namespace WrinkleFree.Platform.Processes;

/// <summary>
/// Starts a command detached into its own session (setsid), stdin from /dev/null and stdout/stderr appended to a log file,
/// never to a pipe of ours: the starter's death (even SIGKILL) does not take it along, a caller reading the starter's output
/// to the end does not wait for it, and pid = process group id = session id, so a stop reaches everything it spawned and a
/// restarted supervisor can re-adopt it by pid + start time. Used for replicas, the service daemon, job controllers and tasks.
/// </summary>
public static class SessionProcess
{
    // Redirects stdio into the log (append: restarts keep history) and then becomes the command: exec keeps the pid.
    private const string Wrapper = "exec 0</dev/null 1>>\"$1\" 2>&1; shift; exec \"$@\"";

    private static readonly TimeSpan LeaderTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Starts <paramref name="command"/> (program and arguments) as described above. The returned process is our child, so
    /// its exit code can be awaited; disposing it leaves the process running. <paramref name="name"/> labels the wrapper
    /// shell in <c>ps</c> while it sets up.
    /// </summary>
    public static Process Start(
        IReadOnlyList<string> command,
        string logPath,
        string? workingDirectory = null,
        IEnumerable<KeyValuePair<string, string>>? environment = null,
        string name = "wf")
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentException.ThrowIfNullOrEmpty(logPath);
        if (command.Count == 0)
        {
            throw new ArgumentException("the command is empty", nameof(command));
        }

        var setsid = LinuxProcess.SetsidPath
            ?? throw new PlatformNotSupportedException("wf needs setsid (Debian/Ubuntu package util-linux) to run processes in their own session; install it");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        var info = new ProcessStartInfo(setsid) { UseShellExecute = false };
        foreach (var arg in new[] { "/bin/sh", "-c", Wrapper, name, logPath }.Concat(command))
        {
            info.ArgumentList.Add(arg);
        }

        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }

        foreach (var (key, value) in environment ?? [])
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"setsid did not start {command[0]}");
        WaitUntilLeader(process);
        return process;
    }

    /// <summary>
    /// Returns once the child has made itself a session leader (its process group is its pid) or has exited. The fork
    /// returns before the child runs setsid; a stop sent to the group in that window (a replica stopped right after its
    /// launch, on a loaded machine) would reach nobody and leave the process running.
    /// </summary>
    private static void WaitUntilLeader(Process process)
    {
        var deadline = Environment.TickCount64 + (long)LeaderTimeout.TotalMilliseconds;
        while (LinuxProcess.ReadStat(process.Id) is { IsDead: false } stat && stat.Pgrp != process.Id)
        {
            if (Environment.TickCount64 > deadline)
            {
                process.Kill();
                throw new InvalidOperationException(
                    $"process {process.Id} ({process.StartInfo.FileName}) did not become a session leader within {LeaderTimeout.TotalSeconds} s");
            }

            Thread.Sleep(1);
        }
    }
}
