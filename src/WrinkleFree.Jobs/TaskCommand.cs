using System.Diagnostics;
using WrinkleFree.Platform.Processes;
using System.Globalization;
using WrinkleFree.Jobs.Checkpoints;

namespace WrinkleFree.Jobs;

/// <summary>
/// Builds the processes a job runs: setup and the task, each through <c>setsid</c> so it leads its own process group (a cancel
/// or cleanup reaches everything it spawned) with stdio appended to the job's log, never to a pipe the controller holds.
/// </summary>
internal static class TaskCommand
{
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

    /// <summary>The checkpoint settings as the variables a <c>run:</c> task reads (WF_CHECKPOINT_STORE, _MODE, _EVERY, WF_KEEP_LAST_N).</summary>
    public static List<KeyValuePair<string, string>> CheckpointEnvironment(CheckpointSpec checkpoint)
    {
        List<KeyValuePair<string, string>> env = [new("WF_CHECKPOINT_STORE", checkpoint.Store), new("WF_CHECKPOINT_MODE", ModeName(checkpoint.Mode))];
        if (checkpoint.EverySteps is { } every)
        {
            env.Add(new("WF_CHECKPOINT_EVERY", every.ToString(CultureInfo.InvariantCulture)));
        }

        if (checkpoint.KeepLastN is { } keep)
        {
            env.Add(new("WF_KEEP_LAST_N", keep.ToString(CultureInfo.InvariantCulture)));
        }

        return env;
    }

    /// <summary>
    /// The task as a container runs it: the image's own <c>wf</c> (on its PATH) with the same train arguments a local job
    /// gets, or bash with the run: script; the checkpoint settings travel as <see cref="CheckpointEnvironment"/>.
    /// </summary>
    public static List<string> ContainerCommand(TaskSpec spec) =>
        spec.Train is { } train ? ["wf", .. TrainArguments(train, spec.Checkpoint)] : ["/bin/bash", "-c", spec.Run!];

    public static string ModeName(CheckpointMode mode) => mode == CheckpointMode.Copy ? "COPY" : "MOUNT_CACHED";

    /// <summary>
    /// Starts <paramref name="command"/> detached into its own session with output appended to <paramref name="logPath"/>
    /// (attempts share one log); pid = process group id, and a signal that kills the command is its exit status.
    /// </summary>
    public static Process Start(IReadOnlyList<string> command, string logPath, string workingDirectory, IReadOnlyDictionary<string, string> environment) =>
        SessionProcess.Start(command, logPath, workingDirectory, environment, "wf-job");

    /// <summary>A shell command line as a command: bash (or sh) -c.</summary>
    public static List<string> ShellCommand(string script) => [Shell, "-c", script];
}
