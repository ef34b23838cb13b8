using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using WrinkleFree.Jobs.Checkpoints;
using WrinkleFree.Platform.Home;
using WrinkleFree.Platform.Processes;

namespace WrinkleFree.Jobs;

/// <summary>
/// One job's controller (the body of <c>wf jobs controller ID</c>): checks resources, runs setup once, then runs the task
/// and decides after each exit: 0 is SUCCEEDED; exit 64 (configuration error), 65 (out of memory) or an out-of-memory message
/// fail at once; any other exit or a signal relaunches while max_restarts_on_errors allows (the task resumes from its own
/// checkpoints), then FAILED. A cancel request (status CANCELLING) stops the task's group: SIGTERM, then SIGKILL after the grace.
/// </summary>
internal sealed partial class JobController(JobStore store, ManagedJobsOptions options, long jobId)
{
    private static readonly JobStatus[] Live = [JobStatus.Pending, JobStatus.Starting, JobStatus.Running, JobStatus.Recovering];

    private readonly TimeProvider _time = options.TimeProvider;
    private long _lastCheckpointPoll;
    private string _workdir = ".";

    // For the nested reporter, which cannot see the primary constructor's parameters.
    private JobStore Store => store;

    private long JobId => jobId;

    private IReadOnlyDictionary<string, string> _taskEnvironment = new Dictionary<string, string>();

    public async Task<JobStatus> RunAsync(CancellationToken cancellationToken)
    {
        var job = await store.GetAsync(jobId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"job {jobId} does not exist in {Path.Combine(options.Home, JobStore.FileName)}");
        var me = System.Environment.ProcessId;
        var started = await store.TransitionAsync(jobId, j => j with { Status = JobStatus.Starting, ControllerPid = me, ControllerStartTime = LinuxProcess.StartTime(me) },
            "controller started", [JobStatus.Pending], cancellationToken).ConfigureAwait(false);
        if (started is null)
        {
            return await CancelledOrCurrentAsync(null, cancellationToken).ConfigureAwait(false);
        }

        TaskSpec spec;
        try
        {
            spec = TaskSpecParser.Parse(job.SpecYaml, job.SourcePath);
        }
        catch (TaskSpecException e)
        {
            return await FinishAsync(JobStatus.FailedPrechecks, e.Message, cancellationToken).ConfigureAwait(false);
        }

        if (job.Placement.Infra != JobPlacement.Local)
        {
            return await RunElsewhereAsync(job, spec, cancellationToken).ConfigureAwait(false);
        }

        var workdir = Path.GetFullPath(spec.Workdir ?? ".", job.LaunchDirectory);
        if (!Directory.Exists(workdir))
        {
            return await FinishAsync(JobStatus.FailedPrechecks, $"workdir '{workdir}' does not exist", cancellationToken).ConfigureAwait(false);
        }

        if (ResourceCheck.Problem(spec.Resources) is { } missing)
        {
            return await FinishAsync(JobStatus.FailedNoResource, missing, cancellationToken).ConfigureAwait(false);
        }

        var environment = TaskEnvironment(job, spec);
        _workdir = workdir;
        _taskEnvironment = environment;
        if (spec.Setup is { } setup)
        {
            await BannerAsync(job.LogPath, "setup", cancellationToken).ConfigureAwait(false);
            var outcome = await RunOnceAsync(TaskCommand.ShellCommand(setup), job.LogPath, workdir, environment, cancellationToken).ConfigureAwait(false);
            if (outcome.Cancelled)
            {
                return await FinishAsync(JobStatus.Cancelled, "cancelled during setup", cancellationToken, [JobStatus.Cancelling]).ConfigureAwait(false);
            }

            if (outcome.ExitCode != 0)
            {
                return await FinishAsync(JobStatus.FailedSetup, $"setup exited with code {outcome.ExitCode}{LastLine(outcome.Output)}", cancellationToken).ConfigureAwait(false);
            }
        }

        var command = spec.Train is { } train
            ? [.. options.WfCommand, .. TaskCommand.TrainArguments(train, spec.Checkpoint)]
            : TaskCommand.ShellCommand(spec.Run!);
        var max = spec.Recovery.MaxRestartsOnErrors;
        for (var attempt = 1; ; attempt++)
        {
            environment["WF_JOB_ATTEMPT"] = attempt.ToString(CultureInfo.InvariantCulture);
            await BannerAsync(job.LogPath, $"attempt {attempt}", cancellationToken).ConfigureAwait(false);
            var outcome = await RunOnceAsync(command, job.LogPath, workdir, environment, cancellationToken, spec.Checkpoint).ConfigureAwait(false);
            await RefreshCheckpointAsync(spec.Checkpoint, force: true, cancellationToken).ConfigureAwait(false);
            if (outcome.Cancelled)
            {
                return await FinishAsync(JobStatus.Cancelled, "cancelled by the user", cancellationToken, [JobStatus.Cancelling]).ConfigureAwait(false);
            }

            if (outcome.ExitCode == 0)
            {
                return await FinishAsync(JobStatus.Succeeded, null, cancellationToken).ConfigureAwait(false);
            }

            if (FatalReason(outcome) is { } fatal)
            {
                return await FinishAsync(JobStatus.Failed, fatal + LastLine(outcome.Output), cancellationToken).ConfigureAwait(false);
            }

            var what = Describe(outcome.ExitCode);
            if (attempt > max)
            {
                return await FinishAsync(JobStatus.Failed,
                    $"{what} and max_restarts_on_errors ({max}) is used up{LastLine(outcome.Output)}", cancellationToken).ConfigureAwait(false);
            }

            var recovering = await store.TransitionAsync(jobId, j => j with { Status = JobStatus.Recovering, Recoveries = attempt, TaskPid = null, TaskStartTime = null },
                $"{what}; restart {attempt} of {max} ({spec.Recovery.Strategy}: restarting on this machine)", [JobStatus.Running], cancellationToken).ConfigureAwait(false);
            if (recovering is null)
            {
                return await CancelledOrCurrentAsync("cancelled by the user", cancellationToken).ConfigureAwait(false);
            }

            await BannerAsync(job.LogPath, $"{what}; recovering (restart {attempt} of {max})", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A job on another infra: its runner drives the attempts; this controller keeps the state, log and checkpoint column.</summary>
    private async Task<JobStatus> RunElsewhereAsync(JobRecord job, TaskSpec spec, CancellationToken cancellationToken)
    {
        if (options.Infrastructures.FirstOrDefault(i => i.Name == job.Placement.Infra) is not { } infrastructure)
        {
            return await FinishAsync(JobStatus.FailedPrechecks, $"this wf was built without the {job.Placement.Infra} job runner", cancellationToken).ConfigureAwait(false);
        }

        var environment = TaskEnvironment(job, spec);
        // The controller's PATH (its wf shim) and WF_HOME name folders on this machine; in the container the image's hold.
        environment.Remove("PATH");
        environment.Remove(WfHome.Variable);
        _workdir = job.LaunchDirectory;
        _taskEnvironment = environment;
        JobRunResult result;
        try
        {
            result = await infrastructure.RunAsync(new JobRun
            {
                Job = job,
                Spec = spec,
                Placement = job.Placement,
                Command = TaskCommand.ContainerCommand(spec),
                Environment = environment,
                Reporter = new Reporter(this, job.LogPath, spec.Checkpoint),
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Recorded rather than thrown: a controller that dies leaves the job for the queue to mark FAILED_CONTROLLER
            // with less to go on than the runner's own message.
            result = new JobRunResult(JobStatus.Failed, $"{job.Placement.Infra}: {e.Message}");
        }

        await RefreshCheckpointAsync(spec.Checkpoint, force: true, cancellationToken).ConfigureAwait(false);
        return result.Status == JobStatus.Cancelled
            ? await FinishAsync(JobStatus.Cancelled, result.Reason ?? "cancelled by the user", cancellationToken, [JobStatus.Cancelling]).ConfigureAwait(false)
            : await FinishAsync(result.Status, result.Reason, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Outcome> RunOnceAsync(
        List<string> command, string logPath, string workdir, Dictionary<string, string> environment, CancellationToken cancellationToken, CheckpointSpec? checkpoint = null)
    {
        var offset = new FileInfo(logPath).Exists ? new FileInfo(logPath).Length : 0;
        using var process = TaskCommand.Start(command, logPath, workdir, environment);
        var pid = process.Id;
        var running = await store.TransitionAsync(jobId, j => j with
        {
            Status = JobStatus.Running,
            StartedAt = j.StartedAt ?? _time.GetUtcNow(),
            TaskPid = pid,
            TaskStartTime = LinuxProcess.StartTime(pid),
        }, $"process group {pid}", [JobStatus.Starting, JobStatus.Recovering, JobStatus.Running], cancellationToken).ConfigureAwait(false);
        if (running is null)
        {
            await StopGroupAsync(pid, cancellationToken).ConfigureAwait(false);
            return new Outcome(null, true, "");
        }

        while (true)
        {
            using (var tick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                tick.CancelAfter(options.PollInterval);
                try
                {
                    await process.WaitForExitAsync(tick.Token).ConfigureAwait(false);
                    break;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // A poll tick: look for a cancel request and the latest checkpoint.
                }
            }

            if ((await store.GetAsync(jobId, cancellationToken).ConfigureAwait(false))?.Status == JobStatus.Cancelling)
            {
                await StopGroupAsync(pid, cancellationToken).ConfigureAwait(false);
                return new Outcome(null, true, "");
            }

            await RefreshCheckpointAsync(checkpoint, force: false, cancellationToken).ConfigureAwait(false);
        }

        // Whatever the task left running in its group (a trainer's worker, a background upload) goes with it.
        LinuxProcess.SignalGroup(pid, LinuxProcess.Sigkill);
        return new Outcome(process.ExitCode, false, ReadTail(logPath, offset));
    }

    private Task StopGroupAsync(int pgid, CancellationToken cancellationToken) =>
        ProcessGroup.TerminateAsync(pgid, options.CancelGracePeriod, TimeSpan.Zero, options.PollInterval, _time, null, cancellationToken);

    private async Task RefreshCheckpointAsync(CheckpointSpec? checkpoint, bool force, CancellationToken cancellationToken)
    {
        if (checkpoint is null || (!force && _time.GetElapsedTime(_lastCheckpointPoll) < options.CheckpointPollInterval))
        {
            return;
        }

        _lastCheckpointPoll = _time.GetTimestamp();
        try
        {
            // Listed as COPY: the durable location is what counts (a MOUNT_CACHED cache is the trainer's private copy). The
            // store is seen as the trainer sees it: a relative folder from the task's workdir, object-store settings from its envs.
            var location = CheckpointStores.IsObjectStore(checkpoint.Store) ? checkpoint.Store : Path.GetFullPath(checkpoint.Store, _workdir);
            await using var checkpoints = CheckpointStores.Open(new CheckpointStoreOptions
            {
                Location = location,
                MaxAttempts = 1,
                TimeProvider = _time,
                S3Endpoint = location.StartsWith("r2://", StringComparison.OrdinalIgnoreCase)
                    ? TaskVariable("WF_R2_ENDPOINT")
                    : TaskVariable("AWS_ENDPOINT_URL_S3") ?? TaskVariable("AWS_ENDPOINT_URL") ?? TaskVariable("WF_S3_ENDPOINT"),
                S3AccessKeyId = TaskVariable("AWS_ACCESS_KEY_ID"),
                S3SecretAccessKey = TaskVariable("AWS_SECRET_ACCESS_KEY"),
                S3Region = location.StartsWith("r2://", StringComparison.OrdinalIgnoreCase) ? null : TaskVariable("AWS_REGION") ?? TaskVariable("AWS_DEFAULT_REGION"),
                AzureConnectionString = TaskVariable("AZURE_STORAGE_CONNECTION_STRING"),
                AzureAccountKey = TaskVariable("AZURE_STORAGE_KEY"),
                GcsEndpoint = TaskVariable("WF_GCS_ENDPOINT"),
            });
            var steps = await checkpoints.ListAsync(cancellationToken).ConfigureAwait(false);
            if (steps.Count > 0)
            {
                await store.TransitionAsync(jobId, j => j with { CheckpointStep = steps[^1] }, null, null, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (CheckpointStoreException e)
        {
            Console.Error.WriteLine($"job {jobId}: cannot list checkpoints in {checkpoint.Store}: {e.Message}");
        }
    }

    /// <summary>A variable as the task sees it: its envs: first, then what the controller inherited; null when unset or empty.</summary>
    private string? TaskVariable(string name) =>
        _taskEnvironment.TryGetValue(name, out var value) && value.Length > 0 ? value
        : System.Environment.GetEnvironmentVariable(name) is { Length: > 0 } inherited ? inherited : null;

    private async Task<JobStatus> FinishAsync(JobStatus status, string? reason, CancellationToken cancellationToken, JobStatus[]? from = null)
    {
        var done = await store.TransitionAsync(jobId, j => j with { Status = status, FailureReason = reason, TaskPid = null, TaskStartTime = null },
            reason, from ?? Live, cancellationToken).ConfigureAwait(false);
        return done?.Status ?? await CancelledOrCurrentAsync(reason, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Someone changed the status under us: a cancel request ends as CANCELLED; anything else is left as it is.</summary>
    private async Task<JobStatus> CancelledOrCurrentAsync(string? reason, CancellationToken cancellationToken)
    {
        var cancelled = await store.TransitionAsync(jobId, j => j with { Status = JobStatus.Cancelled, FailureReason = reason ?? "cancelled by the user", TaskPid = null, TaskStartTime = null },
            reason ?? "cancelled by the user", [JobStatus.Cancelling], cancellationToken).ConfigureAwait(false);
        return cancelled?.Status ?? (await store.GetAsync(jobId, cancellationToken).ConfigureAwait(false))!.Status;
    }

    private Dictionary<string, string> TaskEnvironment(JobRecord job, TaskSpec spec)
    {
        var env = new Dictionary<string, string>(spec.Envs, StringComparer.Ordinal)
        {
            [WfHome.Variable] = options.Home,
            ["WF_JOB_ID"] = jobId.ToString(CultureInfo.InvariantCulture),
            ["WF_JOB_NAME"] = job.Name,
            ["PATH"] = WfShim(job) + ":" + (System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin"),
        };
        if (spec.Checkpoint is { } checkpoint)
        {
            // run: tasks get the checkpoint settings as variables; train: tasks get them as options too.
            foreach (var (name, value) in TaskCommand.CheckpointEnvironment(checkpoint))
            {
                env[name] = value;
            }
        }

        return env;
    }

    /// <summary>A folder with a `wf` script that runs this wf, first on the task's PATH, so run: tasks can call `wf train`.</summary>
    private string WfShim(JobRecord job) =>
        CommandShim.Write(Path.Combine(Path.GetDirectoryName(job.LogPath)!, "bin"), "wf", options.WfCommand);

    private async Task BannerAsync(string logPath, string what, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        await File.AppendAllTextAsync(logPath, Banner(what) + "\n", cancellationToken).ConfigureAwait(false);
    }

    private string Banner(string what) => $"--- wf jobs: job {jobId} {what} at {_time.GetUtcNow():yyyy-MM-dd HH:mm:ss}Z ---";

    private static string? FatalReason(Outcome outcome) => outcome.ExitCode switch
    {
        TaskExitCodes.ConfigurationError or TaskExitCodes.OutOfMemory => TaskExitCodes.FatalReason(outcome.ExitCode),
        _ when OutOfMemory().IsMatch(outcome.Output) => $"out of memory ({Describe(outcome.ExitCode)} after the task reported running out of memory); use a smaller batch or sequence length, or more memory",
        _ => null,
    };

    private static string Describe(int? exitCode) => TaskExitCodes.Describe(exitCode);

    private static string LastLine(string output)
    {
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => !l.StartsWith("--- wf jobs:", StringComparison.Ordinal));
        return last is null ? "" : $"; last output: {last}";
    }

    /// <summary>This attempt's output (at most its last 256 KiB), for the OOM check and the failure message.</summary>
    private static string ReadTail(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var start = Math.Max(offset, stream.Length - (256 << 10));
        stream.Seek(start, SeekOrigin.Begin);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    // What CUDA, PyTorch/libtorch, .NET and the C++ runtime print when an allocation fails.
    [GeneratedRegex(@"out of memory|OutOfMemoryException|std::bad_alloc|Cannot allocate memory", RegexOptions.IgnoreCase)]
    private static partial Regex OutOfMemory();

    /// <summary>What an <see cref="IJobInfrastructure"/> tells this controller, recorded as local attempts are.</summary>
    private sealed class Reporter(JobController controller, string logPath, CheckpointSpec? checkpoint) : IJobRunReporter
    {
        private readonly SemaphoreSlim _log = new(1, 1);

        public async Task<bool> CancelRequestedAsync(CancellationToken cancellationToken) =>
            (await controller.Store.GetAsync(controller.JobId, cancellationToken).ConfigureAwait(false))?.Status == JobStatus.Cancelling;

        public Task RunningAsync(string what, CancellationToken cancellationToken) =>
            controller.Store.TransitionAsync(controller.JobId, j => j with { Status = JobStatus.Running, StartedAt = j.StartedAt ?? controller._time.GetUtcNow() },
                what, [JobStatus.Starting, JobStatus.Recovering], cancellationToken);

        public async Task RecoveringAsync(int recoveries, string why, CancellationToken cancellationToken)
        {
            await controller.Store.TransitionAsync(controller.JobId, j => j with { Status = JobStatus.Recovering, Recoveries = recoveries },
                why, [JobStatus.Starting, JobStatus.Running, JobStatus.Recovering], cancellationToken).ConfigureAwait(false);
            // Through the log lock: pods' log streams append at the same time, and two appenders of one file overwrite each other.
            await AppendLogAsync([controller.Banner($"{why}; recovering (relaunch {recoveries})")], cancellationToken).ConfigureAwait(false);
        }

        public async Task AppendLogAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
        {
            // Several pods' log streams write here at once; whole lines each.
            await _log.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await File.AppendAllLinesAsync(logPath, lines, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _log.Release();
            }
        }

        public Task RefreshCheckpointAsync(CancellationToken cancellationToken) => controller.RefreshCheckpointAsync(checkpoint, force: false, cancellationToken);
    }

    private sealed record Outcome(int? ExitCode, bool Cancelled, string Output);
}
