using WrinkleFree.Jobs;
using WrinkleFree.Jobs.Checkpoints;
using WrinkleFree.Platform.Processes;
using WrinkleFree.Testing;

namespace WrinkleFree.Jobs.Tests;

/// <summary>The controller run in-process against real child processes (bash tasks in their own process groups).</summary>
public sealed class JobControllerTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact]
    public async Task Run_KilledOnFirstAttempt_RecoversAndSucceeds()
    {
        var jobs = await OpenAsync();
        // A counter "checkpoint" in the workdir; the first attempt SIGKILLs itself at step 3, the second resumes from it.
        var job = await SubmitAsync(jobs, """
            name: counter
            job_recovery:
              max_restarts_on_errors: 1
            run: |
              n=$(cat counter 2>/dev/null || echo 0)
              while [ $n -lt 5 ]; do
                n=$((n+1)); echo $n > counter; echo "step $n attempt $WF_JOB_ATTEMPT"
                if [ $n -eq 3 ] && [ "$WF_JOB_ATTEMPT" = 1 ]; then kill -9 $$; fi
              done
            """);

        Assert.Equal(JobStatus.Succeeded, await jobs.RunControllerAsync(job.Id, Timeout()));

        var done = (await jobs.GetAsync(job.Id, Timeout()))!;
        Assert.Equal(1, done.Recoveries);
        Assert.Equal("5", File.ReadAllText(Path.Combine(_temp.Path, "counter")).Trim());
        var log = File.ReadAllText(done.LogPath);
        Assert.Contains("step 3 attempt 1", log, StringComparison.Ordinal);
        Assert.Contains("step 4 attempt 2", log, StringComparison.Ordinal);
        Assert.DoesNotContain("step 4 attempt 1", log, StringComparison.Ordinal);
        Assert.Contains("killed by signal 9", log, StringComparison.Ordinal);
        var events = await jobs.EventsAsync(job.Id, Timeout());
        Assert.Equal(
            [JobStatus.Pending, JobStatus.Starting, JobStatus.Running, JobStatus.Recovering, JobStatus.Running, JobStatus.Succeeded],
            events.Select(e => e.To).ToArray());
    }

    [Fact]
    public async Task Run_ConfigurationErrorExit64_FailsAtOnce()
    {
        var jobs = await OpenAsync();
        var job = await SubmitAsync(jobs, "job_recovery: {max_restarts_on_errors: 3}\nrun: |\n  echo 'error: --lr must be positive' >&2; exit 64\n");

        Assert.Equal(JobStatus.Failed, await jobs.RunControllerAsync(job.Id, Timeout()));
        var done = (await jobs.GetAsync(job.Id, Timeout()))!;
        Assert.Equal(0, done.Recoveries);
        Assert.Contains("configuration error", done.FailureReason, StringComparison.Ordinal);
        Assert.Contains("--lr must be positive", done.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_TaskPrintsOutOfMemory_FailsAtOnce()
    {
        var jobs = await OpenAsync();
        var job = await SubmitAsync(jobs, "job_recovery: {max_restarts_on_errors: 3}\nrun: |\n  echo 'RuntimeError: CUDA out of memory. Tried to allocate 2 GiB'; exit 1\n");

        Assert.Equal(JobStatus.Failed, await jobs.RunControllerAsync(job.Id, Timeout()));
        var done = (await jobs.GetAsync(job.Id, Timeout()))!;
        Assert.Equal(0, done.Recoveries);
        Assert.StartsWith("out of memory", done.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MaxRestartsExceeded_Fails()
    {
        var jobs = await OpenAsync();
        var job = await SubmitAsync(jobs, "job_recovery: {max_restarts_on_errors: 2}\nrun: echo attempt $WF_JOB_ATTEMPT; exit 3\n");

        Assert.Equal(JobStatus.Failed, await jobs.RunControllerAsync(job.Id, Timeout()));
        var done = (await jobs.GetAsync(job.Id, Timeout()))!;
        Assert.Equal(2, done.Recoveries);
        Assert.Contains("exit code 3 and max_restarts_on_errors (2) is used up", done.FailureReason, StringComparison.Ordinal);
        Assert.Contains("attempt 3", File.ReadAllText(done.LogPath), StringComparison.Ordinal);
        Assert.DoesNotContain("attempt 4", File.ReadAllText(done.LogPath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_TaskIgnoringSigterm_IsKilledWithItsWholeGroup()
    {
        var jobs = await OpenAsync(grace: TimeSpan.FromSeconds(1));
        // The task and a child both ignore SIGTERM, so only the SIGKILL after the grace period stops them.
        var job = await SubmitAsync(jobs, "run: |\n  trap '' TERM\n  sleep 600 &\n  echo started\n  wait\n");
        var controller = Task.Run(() => jobs.RunControllerAsync(job.Id, Timeout()));
        var running = await WaitForAsync(jobs, job.Id, j => j.Status == JobStatus.Running && File.Exists(j.LogPath) && File.ReadAllText(j.LogPath).Contains("started", StringComparison.Ordinal));
        var pgid = running.TaskPid!.Value;

        var cancelled = await jobs.CancelAsync(job.Id, Timeout());

        Assert.Equal(JobStatus.Cancelled, cancelled.Status);
        Assert.Equal(JobStatus.Cancelled, await controller.WaitAsync(Timeout()));
        Assert.False(LinuxProcess.GroupAlive(pgid), $"process group {pgid} still has live members");
        Assert.Equal([JobStatus.Cancelling, JobStatus.Cancelled], (await jobs.EventsAsync(job.Id, Timeout())).Select(e => e.To).TakeLast(2).ToArray());
    }

    [Fact]
    public async Task Run_SetupFails_FailedSetup()
    {
        var jobs = await OpenAsync();
        var job = await SubmitAsync(jobs, "setup: exit 2\nrun: echo never\n");
        Assert.Equal(JobStatus.FailedSetup, await jobs.RunControllerAsync(job.Id, Timeout()));
        Assert.DoesNotContain("never", File.ReadAllText((await jobs.GetAsync(job.Id, Timeout()))!.LogPath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MoreCpusThanTheMachine_FailedNoResource()
    {
        var jobs = await OpenAsync();
        var job = await SubmitAsync(jobs, "resources: {cpus: 100000+}\nrun: echo never\n");
        Assert.Equal(JobStatus.FailedNoResource, await jobs.RunControllerAsync(job.Id, Timeout()));
        Assert.Contains("cpus: 100000+", (await jobs.GetAsync(job.Id, Timeout()))!.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissingWorkdir_FailedPrechecks()
    {
        var jobs = await OpenAsync();
        var job = await SubmitAsync(jobs, "workdir: no/such/folder\nrun: echo never\n");
        Assert.Equal(JobStatus.FailedPrechecks, await jobs.RunControllerAsync(job.Id, Timeout()));
    }

    [Fact]
    public async Task Run_WithCheckpointStore_RecordsNewestStepAndPassesItToTheTask()
    {
        var store = Path.Combine(_temp.Path, "checkpoints");
        await using (var checkpoints = CheckpointStores.Open(new CheckpointStoreOptions { Location = store }))
        {
            var staging = _temp.Sub("staging");
            File.WriteAllText(Path.Combine(staging, "weights"), "w");
            await checkpoints.SaveAsync(40, staging, Timeout());
        }

        var jobs = await OpenAsync();
        var job = await SubmitAsync(jobs, $"checkpoint:\n  store: {store}\n  every_steps: 20\nrun: echo \"$WF_CHECKPOINT_STORE $WF_CHECKPOINT_MODE $WF_CHECKPOINT_EVERY\"\n");

        Assert.Equal(JobStatus.Succeeded, await jobs.RunControllerAsync(job.Id, Timeout()));
        var done = (await jobs.GetAsync(job.Id, Timeout()))!;
        Assert.Equal(40, done.CheckpointStep);
        Assert.Contains($"{store} COPY 20", File.ReadAllText(done.LogPath), StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();

    private Task<ManagedJobs> OpenAsync(TimeSpan? grace = null) => ManagedJobs.OpenAsync(new ManagedJobsOptions
    {
        Home = Path.Combine(_temp.Path, "home"),
        WfCommand = ["/bin/false"],
        PollInterval = TimeSpan.FromMilliseconds(50),
        CancelGracePeriod = grace ?? TimeSpan.FromSeconds(10),
    }, Timeout());

    private Task<JobRecord> SubmitAsync(ManagedJobs jobs, string yaml) => jobs.SubmitAsync(yaml, null, null, _temp.Path, null, Timeout());

    private static async Task<JobRecord> WaitForAsync(ManagedJobs jobs, long id, Func<JobRecord, bool> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var job = (await jobs.GetAsync(id, deadline.Token))!;
            if (condition(job))
            {
                return job;
            }

            await Task.Delay(50, deadline.Token);
        }
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;
}
