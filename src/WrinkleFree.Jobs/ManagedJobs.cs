using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using WrinkleFree.Platform.Home;
using WrinkleFree.Platform.Processes;

namespace WrinkleFree.Jobs;

/// <summary>
/// SkyPilot-style managed jobs on this machine: launch a task under its own detached controller process, list them, follow
/// their logs, cancel them. A controller that dies is found by <see cref="QueueAsync"/> (pid and start-time check): the job
/// becomes FAILED_CONTROLLER and its orphaned task group is killed (a cluster Job deleted), rather than re-adopted, so no task
/// runs unsupervised.
/// </summary>
public sealed class ManagedJobs
{
    // A controller gets this long to record its pid before a job with none counts as having lost it.
    private static readonly TimeSpan ControllerStartGrace = TimeSpan.FromSeconds(60);

    private readonly ManagedJobsOptions _options;
    private readonly JobStore _store;

    private ManagedJobs(ManagedJobsOptions options, JobStore store)
    {
        _options = options;
        _store = store;
    }

    /// <summary>Opens (creating it if needed) the jobs database under <see cref="ManagedJobsOptions.Home"/>.</summary>
    public static async Task<ManagedJobs> OpenAsync(ManagedJobsOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.WfCommand.Count == 0)
        {
            throw new ArgumentException("WfCommand must name the wf executable", nameof(options));
        }

        var store = await JobStore.OpenAsync(Path.Combine(options.Home, JobStore.FileName), options.TimeProvider, cancellationToken).ConfigureAwait(false);
        return new ManagedJobs(options, store);
    }

    /// <summary>
    /// Validates the task (a <see cref="TaskSpecException"/> names line and column) and where it runs, records it PENDING and
    /// starts its controller detached (<c>setsid wf jobs controller ID</c>, output to <c>jobs/ID/controller.log</c>). A
    /// kubernetes job's controller runs here too: it drives the cluster's Job and copies its pods' logs into the job's log.
    /// </summary>
    public async Task<JobRecord> LaunchAsync(
        string yaml, string? sourcePath, string? name, string launchDirectory, JobLaunchFlags? flags, CancellationToken cancellationToken)
    {
        var job = await SubmitAsync(yaml, sourcePath, name, launchDirectory, flags, cancellationToken).ConfigureAwait(false);
        var controllerLog = Path.Combine(JobDirectory(job.Id), "controller.log");
        // The controller must hold neither our stdio (a caller reading it to the end would wait for the job) nor our session.
        using var process = SessionProcess.Start(
            [.. _options.WfCommand, "jobs", "controller", job.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            controllerLog,
            environment: [new(WfHome.Variable, _options.Home)],
            name: "wf-jobs");
        var pid = process.Id;
        // The controller records itself too; whichever write lands last carries the same pid.
        return await _store.TransitionAsync(job.Id, j => j with { ControllerPid = j.ControllerPid ?? pid, ControllerStartTime = j.ControllerStartTime ?? LinuxProcess.StartTime(pid) },
            null, null, cancellationToken).ConfigureAwait(false) ?? (await _store.GetAsync(job.Id, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Validates and records a PENDING job without starting its controller (tests run the controller in-process).</summary>
    internal async Task<JobRecord> SubmitAsync(
        string yaml, string? sourcePath, string? name, string launchDirectory, JobLaunchFlags? flags, CancellationToken cancellationToken)
    {
        var spec = TaskSpecParser.Parse(yaml, sourcePath);
        var placement = JobPlacement.Resolve(spec, flags, sourcePath);
        if (placement.Infra != JobPlacement.Local && !_options.Infrastructures.Any(i => i.Name == placement.Infra))
        {
            throw new TaskSpecException("resources.infra", 0, 0, $"this wf was built without the {placement.Infra} job runner", sourcePath);
        }

        var jobName = name ?? spec.Name ?? (sourcePath is null ? "job" : Path.GetFileNameWithoutExtension(sourcePath));
        var job = await _store.CreateAsync(new JobRecord
        {
            Name = jobName,
            Stage = spec.Stage,
            SpecYaml = yaml,
            SourcePath = sourcePath,
            LaunchDirectory = Path.GetFullPath(launchDirectory),
            LogPath = "",
            Placement = placement,
        }, id => Path.Combine(JobDirectory(id), "run.log"), cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(JobDirectory(job.Id));
        return job;
    }

    /// <summary>Runs job <paramref name="id"/>'s controller in this process until the job ends (what <c>wf jobs controller</c> does).</summary>
    public Task<JobStatus> RunControllerAsync(long id, CancellationToken cancellationToken) =>
        new JobController(_store, _options, id).RunAsync(cancellationToken);

    /// <summary>Every job, oldest first, after marking jobs whose controller died FAILED_CONTROLLER.</summary>
    public async Task<IReadOnlyList<JobRecord>> QueueAsync(CancellationToken cancellationToken)
    {
        var jobs = await _store.ListAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<JobRecord>(jobs.Count);
        foreach (var job in jobs)
        {
            result.Add(job.Status.IsTerminal() ? job : await CheckControllerAsync(job, cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    /// <summary>One job (after the same controller check as the queue), or null.</summary>
    public async Task<JobRecord?> GetAsync(long id, CancellationToken cancellationToken) =>
        await _store.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } job
            ? job.Status.IsTerminal() ? job : await CheckControllerAsync(job, cancellationToken).ConfigureAwait(false)
            : null;

    /// <summary>Every state transition of a job, oldest first.</summary>
    public Task<IReadOnlyList<JobEvent>> EventsAsync(long id, CancellationToken cancellationToken) => _store.EventsAsync(id, cancellationToken);

    /// <summary>
    /// Asks the job to stop (CANCELLING) and waits for its controller to stop the task and mark it CANCELLED; when the
    /// controller is gone, kills the task group itself. A job already finished is returned unchanged.
    /// </summary>
    public async Task<JobRecord> CancelAsync(long id, CancellationToken cancellationToken)
    {
        var job = await GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw NoSuchJob(id);
        if (job.Status.IsTerminal())
        {
            return job;
        }

        await _store.TransitionAsync(id, j => j with { Status = JobStatus.Cancelling }, "cancel requested", null, cancellationToken).ConfigureAwait(false);
        var deadline = _options.TimeProvider.GetTimestamp();
        var wait = _options.CancelGracePeriod + TimeSpan.FromSeconds(30);
        while (true)
        {
            job = (await _store.GetAsync(id, cancellationToken).ConfigureAwait(false))!;
            if (job.Status.IsTerminal())
            {
                return job;
            }

            if (!LinuxProcess.IsSame(job.ControllerPid, job.ControllerStartTime) || _options.TimeProvider.GetElapsedTime(deadline) > wait)
            {
                // Nobody is left to do it (or it is stuck): stop the task here.
                if (job.TaskPid is { } pgid)
                {
                    LinuxProcess.SignalGroup(pgid, LinuxProcess.Sigkill);
                }

                // Only if the controller did not finish meanwhile; its cluster Job (if any) goes once the job is cancelled.
                var cancelled = await _store.TransitionAsync(id, j => j with { Status = JobStatus.Cancelled, FailureReason = "cancelled by the user", TaskPid = null, TaskStartTime = null },
                    "cancelled by the user (controller not responding; task group killed)", [job.Status], cancellationToken).ConfigureAwait(false);
                if (cancelled is null)
                {
                    return (await _store.GetAsync(id, cancellationToken).ConfigureAwait(false))!;
                }

                return await AbandonRemoteAsync(job, cancellationToken).ConfigureAwait(false) is { } removed
                    ? await _store.TransitionAsync(id, j => j with { FailureReason = $"cancelled by the user (controller not responding; {removed})" }, null, [JobStatus.Cancelled], cancellationToken).ConfigureAwait(false) ?? cancelled
                    : cancelled;
            }

            await Task.Delay(_options.PollInterval, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The job's log lines from the start; with <paramref name="follow"/>, new lines as they come until the job ends.</summary>
    public async IAsyncEnumerable<string> LogsAsync(long id, bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var job = await GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw NoSuchJob(id);
        var pending = new StringBuilder();
        var buffer = new char[8192];
        FileStream? stream = null;
        StreamReader? reader = null;
        try
        {
            while (true)
            {
                if (stream is null && File.Exists(job.LogPath))
                {
                    stream = new FileStream(job.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    reader = new StreamReader(stream, Encoding.UTF8);
                }

                // Read the end state before the file: a job that ended has written everything, so one more read finishes it.
                var ended = !follow || (await GetAsync(id, cancellationToken).ConfigureAwait(false))!.Status.IsTerminal();
                if (reader is not null)
                {
                    int read;
                    while ((read = await reader.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        pending.Append(buffer, 0, read);
                    }

                    // Only whole lines: a writer may be in the middle of one.
                    var text = pending.ToString();
                    var cut = text.LastIndexOf('\n');
                    if (cut >= 0)
                    {
                        foreach (var line in text[..cut].Split('\n'))
                        {
                            yield return line;
                        }

                        pending.Remove(0, cut + 1);
                    }
                }

                if (ended)
                {
                    if (pending.Length > 0)
                    {
                        yield return pending.ToString();
                    }

                    yield break;
                }

                await Task.Delay(_options.PollInterval, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            reader?.Dispose();
            stream?.Dispose();
        }
    }

    /// <summary>The folder of one job: its log, controller log and wf shim.</summary>
    public string JobDirectory(long id) => Path.Combine(_options.Home, "jobs", id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private async Task<JobRecord> CheckControllerAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var alive = LinuxProcess.IsSame(job.ControllerPid, job.ControllerStartTime);
        var unstarted = job.ControllerPid is null && _options.TimeProvider.GetUtcNow() - job.SubmittedAt < ControllerStartGrace;
        if (alive || unstarted)
        {
            return job;
        }

        // Only if nothing changed meanwhile: a controller that just finished wrote a final state before exiting.
        var reason = job.ControllerPid is { } pid
            ? $"the job's controller (pid {pid}) died; see {Path.Combine(JobDirectory(job.Id), "controller.log")}"
            : $"the job's controller never started; see {Path.Combine(JobDirectory(job.Id), "controller.log")}";
        var failed = await _store.TransitionAsync(job.Id, j => j with { Status = JobStatus.FailedController, FailureReason = reason, TaskPid = null, TaskStartTime = null },
            reason, [job.Status], cancellationToken).ConfigureAwait(false);
        if (failed is null)
        {
            return (await _store.GetAsync(job.Id, cancellationToken).ConfigureAwait(false))!;
        }

        // A cluster Job keeps running (and billing) without its controller. Removed only once the job is marked failed
        // here: a controller that finished between the read above and the pid check has a final state, and its Job stays.
        if (await AbandonRemoteAsync(job, cancellationToken).ConfigureAwait(false) is { } removed)
        {
            reason += "; " + removed;
            failed = await _store.TransitionAsync(job.Id, j => j with { FailureReason = reason }, null, [JobStatus.FailedController], cancellationToken).ConfigureAwait(false) ?? failed;
        }

        if (LinuxProcess.IsSame(job.TaskPid, job.TaskStartTime) || (job.TaskPid is { } pgid && LinuxProcess.GroupAlive(pgid)))
        {
            // An orphaned trainer would keep writing checkpoints with nobody to supervise or cancel it.
            LinuxProcess.SignalGroup(job.TaskPid!.Value, LinuxProcess.Sigkill);
        }

        return failed;
    }

    /// <summary>What removing a job's remote work said, or null for a job on this machine.</summary>
    private async Task<string?> AbandonRemoteAsync(JobRecord job, CancellationToken cancellationToken)
    {
        if (job.Placement.Infra == JobPlacement.Local)
        {
            return null;
        }

        return _options.Infrastructures.FirstOrDefault(i => i.Name == job.Placement.Infra) is { } infrastructure
            ? await infrastructure.AbandonAsync(job, cancellationToken).ConfigureAwait(false)
            : $"this wf has no {job.Placement.Infra} job runner, so whatever the job started there is still running: remove it by hand";
    }

    private static KeyNotFoundException NoSuchJob(long id) => new($"there is no job {id}; `wf jobs queue` lists the jobs");
}
