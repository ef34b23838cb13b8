using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using WrinkleFree.Jobs;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf jobs launch|queue|logs|cancel</c>: SkyPilot-style managed jobs (training stages or shell tasks) that restart after a
/// crash and resume from their checkpoints, each under a detached controller process (the hidden <c>wf jobs controller</c>).
/// </summary>
internal sealed class JobsCommands(CliContext context)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public void Register(RootCommand root)
    {
        var jobs = new Command("jobs", "Managed jobs: run a training stage (or any task) that survives crashes and resumes from its checkpoints.");
        jobs.Subcommands.Add(Launch());
        jobs.Subcommands.Add(Queue());
        jobs.Subcommands.Add(Logs());
        jobs.Subcommands.Add(Cancel());
        jobs.Subcommands.Add(Controller());
        root.Subcommands.Add(jobs);
    }

    private Command Launch()
    {
        var task = new Argument<FileInfo>("TASK") { Description = "Task YAML: name, resources, envs, workdir, setup, run or train:, checkpoint:, job_recovery:." };
        var name = new Option<string?>("--name", "-n") { Description = "Job name (default: the task's name:, else the file name)." };
        var detach = new Option<bool>("--detach", "-d") { Description = "Return once the job is submitted instead of following its log." };
        var json = new Option<bool>("--json") { Description = "Print the submitted job as JSON and return (implies --detach)." };
        var infra = new Option<string?>("--infra") { HelpName = "INFRA", Description = "Where it runs: local (this machine), k8s or k8s/CONTEXT (a batch/v1 Job); default: the task's resources.infra, else local." };
        var image = new Option<string?>("--image") { HelpName = "IMAGE", Description = "Container image with wf in it, for k8s (default: the task's resources.image_id)." };
        var ns = new Option<string?>("--namespace") { HelpName = "NS", Description = "Namespace of the Job, for k8s (default: default)." };
        var kubeContext = new Option<string?>("--context") { HelpName = "CONTEXT", Description = "Kubeconfig context, for k8s (default: the one in --infra k8s/CONTEXT, else the current context)." };
        var cmd = new Command("launch", "Submit a managed job; without -d, follow its log until it ends.") { task, name, detach, json, infra, image, ns, kubeContext };
        cmd.SetAction((parse, ct) => Guard(async () =>
        {
            var file = parse.GetValue(task)!;
            if (!file.Exists)
                return Fail($"task file '{file.FullName}' does not exist");
            var managed = await OpenAsync(ct);
            var yaml = await File.ReadAllTextAsync(file.FullName, ct);
            var flags = new JobLaunchFlags { Infra = parse.GetValue(infra), Image = parse.GetValue(image), Namespace = parse.GetValue(ns), Context = parse.GetValue(kubeContext) };
            var job = await managed.LaunchAsync(yaml, file.FullName, parse.GetValue(name), Environment.CurrentDirectory, flags, ct);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(View(job), Json));
                return ExitCodes.Success;
            }
            context.Out.WriteLine($"job {job.Id} ({job.Name}) submitted; `wf jobs logs {job.Id} -f` follows it, `wf jobs queue` lists jobs");
            if (parse.GetValue(detach))
                return ExitCodes.Success;
            await foreach (var line in managed.LogsAsync(job.Id, follow: true, ct))
                context.Out.WriteLine(line);
            var done = (await managed.GetAsync(job.Id, ct))!;
            context.Out.WriteLine($"job {done.Id} ({done.Name}): {done.Status.ToName()}{(done.FailureReason is null ? "" : ": " + done.FailureReason)}");
            return done.Status == JobStatus.Succeeded ? ExitCodes.Success : ExitCodes.Failure;
        }));
        return cmd;
    }

    private Command Queue()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON: a list of jobs (id, name, stage, status, submitted_at, duration_seconds, recoveries, checkpoint_step, ...)." };
        var cmd = new Command("queue", "List managed jobs with their status, recoveries and newest checkpoint.") { json };
        cmd.SetAction((parse, ct) => Guard(async () =>
        {
            var managed = await OpenAsync(ct);
            var jobs = await managed.QueueAsync(ct);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(jobs.Select(View).ToList(), Json));
                return ExitCodes.Success;
            }
            if (jobs.Count == 0)
            {
                context.Out.WriteLine("No managed jobs. `wf jobs launch TASK.yaml` submits one.");
                return ExitCodes.Success;
            }
            var table = new CliTable("ID", "NAME", "STAGE", "STATUS", "SUBMITTED", "DURATION", "RECOVERIES", "CHECKPOINT");
            var now = context.Time.GetUtcNow();
            foreach (var j in jobs)
            {
                table.AddRow(j.Id.ToString(CultureInfo.InvariantCulture), j.Name, j.Stage ?? "-", j.Status.ToName(),
                    CliFormat.Duration(now - j.SubmittedAt) + " ago", j.Duration(now) is { } d ? CliFormat.Duration(d) : "-", j.Recoveries.ToString(CultureInfo.InvariantCulture),
                    j.CheckpointStep?.ToString(CultureInfo.InvariantCulture) ?? "-");
            }
            table.Write(context);
            foreach (var j in jobs.Where(j => j.FailureReason is not null && j.Status != JobStatus.Cancelled).TakeLast(5))
                context.Out.WriteLine($"job {j.Id}: {j.Status.ToName()}: {j.FailureReason}");
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private Command Logs()
    {
        var id = new Argument<long>("ID") { Description = "Job id." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until the job ends (or Ctrl-C)." };
        var controller = new Option<bool>("--controller") { Description = "Show the controller's own log instead of the task's." };
        var cmd = new Command("logs", "Print a job's output (setup and every attempt).") { id, follow, controller };
        cmd.SetAction((parse, ct) => Guard(async () =>
        {
            var managed = await OpenAsync(ct);
            var jobId = parse.GetValue(id);
            if (parse.GetValue(controller))
            {
                var path = Path.Combine(managed.JobDirectory(jobId), "controller.log");
                if (!File.Exists(path))
                    return Fail($"job {jobId} has no controller log at {path}");
                context.Out.Write(await File.ReadAllTextAsync(path, ct));
                return ExitCodes.Success;
            }
            try
            {
                await foreach (var line in managed.LogsAsync(jobId, parse.GetValue(follow), ct))
                    context.Out.WriteLine(line);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl-C ends a follow; the job keeps running.
            }
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private Command Cancel()
    {
        var id = new Argument<long>("ID") { Description = "Job id." };
        var cmd = new Command("cancel", "Stop a job: SIGTERM to its process group, SIGKILL after a grace period (on k8s: delete its Job and pods); it ends CANCELLED.") { id };
        cmd.SetAction((parse, ct) => Guard(async () =>
        {
            var managed = await OpenAsync(ct);
            var job = await managed.CancelAsync(parse.GetValue(id), ct);
            context.Out.WriteLine(job.Status == JobStatus.Cancelled
                ? $"job {job.Id} ({job.Name}) is CANCELLED"
                : $"job {job.Id} ({job.Name}) had already ended: {job.Status.ToName()}");
            return ExitCodes.Success;
        }));
        return cmd;
    }

    private Command Controller()
    {
        var id = new Argument<long>("ID") { Description = "Job id." };
        var cmd = new Command("controller", "Run one job's controller in the foreground (wf jobs launch starts it detached).") { id, };
        cmd.Hidden = true;
        // The controller ignores the token on purpose: a signal must not stop it between two of a job's state transitions.
        // A job is stopped by `wf jobs cancel`; a controller killed anyway (SIGTERM after the grace, SIGKILL) is found by
        // the next `wf jobs queue`, which marks the job FAILED_CONTROLLER and stops its task.
        cmd.SetAction(async (parse, _) =>
        {
            var managed = await OpenAsync(CancellationToken.None);
            var status = await managed.RunControllerAsync(parse.GetValue(id), CancellationToken.None);
            context.Out.WriteLine($"wf jobs controller: job {parse.GetValue(id)} ended {status.ToName()}");
            return ExitCodes.Success;
        });
        return cmd;
    }

    private Task<ManagedJobs> OpenAsync(CancellationToken cancellationToken) =>
        ManagedJobs.OpenAsync(new ManagedJobsOptions { Home = context.Home, WfCommand = SelfCommand(), TimeProvider = context.Time, Infrastructures = WfProviders.JobInfrastructures }, cancellationToken);

    /// <summary>How to run this very `wf`: the apphost itself, or `dotnet wf.dll`.</summary>
    private static string[] SelfCommand()
    {
        var process = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? [process, WfSelf.EntryDll] : [process];
    }

    private object View(JobRecord j) => new JobView(
        j.Id, j.Name, j.Stage, j.Status.ToName(), j.SubmittedAt, j.StartedAt, j.EndedAt, j.Duration(context.Time.GetUtcNow())?.TotalSeconds,
        j.Recoveries, j.CheckpointStep, j.FailureReason, j.LogPath, j.ControllerPid, j.TaskPid);

    private async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (TaskSpecException e) when (e.KeyPath == "checkpoint.store")
        {
            // The trainer would reject this store with the same code (configuration error), and launch creates nothing first.
            context.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.ConfigurationError;
        }
        catch (Exception e) when (e is TaskSpecException or KeyNotFoundException)
        {
            return Fail(e.Message);
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Cancelled;
        }
    }

    private int Fail(string message)
    {
        context.Error.WriteLine($"error: {message}");
        return ExitCodes.Failure;
    }

    private sealed record JobView(
        long Id, string Name, string? Stage, string Status, DateTimeOffset SubmittedAt, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt,
        double? DurationSeconds, int Recoveries, long? CheckpointStep, string? FailureReason, string LogPath, int? ControllerPid, int? TaskPid);
}
