using System.Diagnostics;
using System.Globalization;
using WrinkleFree.Training.Storage;

namespace WrinkleFree.Training.Jobs;

/// <summary>
/// Builds the processes a job runs: setup and the task, each through <c>setsid</c> so it leads its own process group (a cancel
/// or cleanup reaches everything it spawned) with stdio appended to the job's log, never to a pipe the controller holds.
/// </summary>
internal static class TaskCommand
{
    // Redirects stdio into the log (append: attempts share one log) and becomes the command: exec keeps the pid, so
    // pid = process group id, and a signal that kills the command is what the controller sees as its exit status.
    private const string Wrapper = "exec 0</dev/null 1>>\"$1\" 2>&1; shift; exec \"$@\"";

    private static readonly string? SetsidPath = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);
    private static readonly string Shell = File.Exists("/bin/bash") ? "/bin/bash" : "/bin/sh";

    /// <summary><c>wf train STAGE --key value ...</c> plus the checkpoint options, as arguments after the wf command.</summary>
    public static List<string> TrainArguments(TrainSpec train, CheckpointSpec? checkpoint)
    {
        var args = new List<string> { "train", train.Stage };
        foreach (var (key, value) in train.Settings)
        {
            args.Add("--" + key);
            args.Add(value);
        }

        if (checkpoint is not null)
        {
            args.AddRange(["--checkpoint-store", checkpoint.Store, "--checkpoint-mode", ModeName(checkpoint.Mode)]);
            if (checkpoint.EverySteps is { } every)
            {
                args.AddRange(["--checkpoint-every", every.ToString(CultureInfo.InvariantCulture)]);
            }

            if (checkpoint.KeepLastN is { } keep)
            {
                args.AddRange(["--keep-last-n", keep.ToString(CultureInfo.InvariantCulture)]);
            }
        }

        return args;
    }

    public static string ModeName(CheckpointMode mode) => mode == CheckpointMode.Copy ? "COPY" : "MOUNT_CACHED";

    /// <summary>Starts <paramref name="command"/> detached into its own session with output appended to <paramref name="logPath"/>.</summary>
    public static Process Start(IReadOnlyList<string> command, string logPath, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        if (SetsidPath is null)
        {
            throw new PlatformNotSupportedException("managed jobs need setsid (util-linux) to run tasks in their own process group");
        }

        var info = new ProcessStartInfo(SetsidPath) { UseShellExecute = false, WorkingDirectory = workingDirectory };
        foreach (var arg in new[] { "/bin/sh", "-c", Wrapper, "wf-job", logPath }.Concat(command))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return Process.Start(info) ?? throw new InvalidOperationException("setsid did not start");
    }

    /// <summary>A shell command line as a command: bash (or sh) -c.</summary>
    public static List<string> ShellCommand(string script) => [Shell, "-c", script];
}
