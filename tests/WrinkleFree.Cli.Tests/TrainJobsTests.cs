using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using WrinkleFree.Jobs;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// `wf jobs` running the real trainer (`train:` tasks) end to end: detached controllers, a real `wf train teacher` per
/// attempt, SIGKILL of the trainer (not the controller) as a preempted machine would do it, and a private WF_HOME each.
/// </summary>
public sealed class TrainJobsTests
{
    [Fact]
    public async Task Launch_TrainerSigkilledAfterACheckpoint_RecoversAndEndsBitwiseLikeAnUninterruptedRun()
    {
        var reference = TeacherJob.ReferenceWeightsAsync();
        await using var jobs = new JobsHarness("wf-train-jobs");
        // A relative store in a workdir: the trainer and the controller's checkpoint column must both find it there.
        var workdir = Directory.CreateDirectory(Path.Combine(jobs.Directory, "work")).FullName;
        var store = Path.Combine(workdir, "ckpt");
        var id = await jobs.LaunchAsync(jobs.Write("teach.yaml", TeacherJob.Task("teach", "ckpt", workdir: "work")));

        var killed = await KillTrainerAfterFirstCheckpointAsync(jobs, id, () => Manifests(store).Any());

        var done = await jobs.WaitForStatusAsync(id, "SUCCEEDED");
        Assert.Equal(1, done.GetProperty("recoveries").GetInt32());
        Assert.Equal("teacher", done.GetProperty("stage").GetString());
        Assert.Equal(TeacherJob.Steps - TeacherJob.CheckpointEvery, done.GetProperty("checkpoint_step").GetInt64());
        Assert.Equal(TeacherJob.KeepLastN, Manifests(store).Count());
        await AssertRecoveredAsync(jobs, id, killed);
        Assert.Equal(await reference, await File.ReadAllBytesAsync(Path.Combine(workdir, "out", "model.safetensors")));
    }

    [Fact]
    public async Task Launch_TrainConfigurationErrors_FailAtOnceWithoutRestart()
    {
        await using var jobs = new JobsHarness("wf-train-jobs");
        var unknown = await jobs.LaunchAsync(jobs.Write("unknown.yaml", TeacherJob.Task("unknown", "ckpt-a",
            settings: [.. TeacherJob.Settings(), ("learning_rat", "0.1")], maxRestarts: 3)));
        var badValue = await jobs.LaunchAsync(jobs.Write("bad.yaml", TeacherJob.Task("bad", "ckpt-b",
            settings: TeacherJob.Settings().Select(s => s.Key == "steps" ? ("steps", "many") : s), maxRestarts: 3)));

        foreach (var (id, message) in new[] { (unknown, "unknown argument(s): --learning-rat 0.1"), (badValue, "--steps 'many' is not a valid integer") })
        {
            var job = await jobs.WaitForEndAsync(id);
            Assert.Equal("FAILED", job.GetProperty("status").GetString());
            Assert.Equal(0, job.GetProperty("recoveries").GetInt32());
            var reason = job.GetProperty("failure_reason").GetString();
            Assert.Contains("configuration error (exit code 64)", reason, StringComparison.Ordinal);
            Assert.Contains(message, reason, StringComparison.Ordinal);

            var logs = await jobs.LogsAsync(id);
            Assert.Contains("error: " + message, logs, StringComparison.Ordinal);
            Assert.Contains($"job {id} attempt 1 ", logs, StringComparison.Ordinal);
            Assert.DoesNotContain($"job {id} attempt 2 ", logs, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Cancel_RunningTrainJob_EndsCancelledAndTheTrainerIsGone()
    {
        await using var jobs = new JobsHarness("wf-train-jobs");
        // Far more steps than the test waits for: the trainer is mid-run when the cancel arrives.
        var id = await jobs.LaunchAsync(jobs.Write("long.yaml", TeacherJob.Task("long", "ckpt", settings: TeacherJob.Settings(steps: 1_000_000))));
        var running = await jobs.WaitForAsync(id, j => j.GetProperty("task_pid").ValueKind == JsonValueKind.Number, "a running trainer");
        var trainer = running.GetProperty("task_pid").GetInt32();
        var log = running.GetProperty("log_path").GetString()!;
        await JobsHarness.WaitUntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("teacher step 1/", StringComparison.Ordinal),
            "the trainer's first step", TimeSpan.FromSeconds(120));
        Assert.Contains(" train teacher ", JobsHarness.CommandLine(trainer), StringComparison.Ordinal);

        var (code, stdout, stderr) = await jobs.WfAsync("jobs", "cancel", id.ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, stderr);
        Assert.Contains("CANCELLED", stdout, StringComparison.Ordinal);
        var job = await jobs.JobAsync(id);
        Assert.Equal("CANCELLED", job.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("task_pid").ValueKind);
        await JobsHarness.WaitUntilAsync(() => !JobsHarness.IsAlive(trainer), $"trainer {trainer} gone", TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Waits for the first attempt's trainer and for <paramref name="checkpointed"/>, then SIGKILLs the trainer (only it:
    /// the controller must notice and restart it). Returns the killed pid.
    /// </summary>
    internal static async Task<int> KillTrainerAfterFirstCheckpointAsync(JobsHarness jobs, long id, Func<bool> checkpointed)
    {
        var running = await jobs.WaitForAsync(id, j => j.GetProperty("task_pid").ValueKind == JsonValueKind.Number, "a running trainer");
        var trainer = running.GetProperty("task_pid").GetInt32();
        Assert.Contains(" train teacher ", JobsHarness.CommandLine(trainer), StringComparison.Ordinal);
        await JobsHarness.WaitUntilAsync(checkpointed, "a committed checkpoint", TimeSpan.FromSeconds(120));

        using var process = Process.GetProcessById(trainer);
        Assert.True(JobsHarness.IsAlive(trainer), $"trainer {trainer} finished before the kill; the run is too short for this test");
        process.Kill(); // SIGKILL: no handler runs, as on a preempted machine.
        await JobsHarness.WaitUntilAsync(() => !JobsHarness.IsAlive(trainer), $"trainer {trainer} gone after SIGKILL", TimeSpan.FromSeconds(30));
        return trainer;
    }

    /// <summary>RECOVERING → RUNNING → SUCCEEDED in the job's events, and a second attempt that resumed from a checkpoint.</summary>
    internal static async Task AssertRecoveredAsync(JobsHarness jobs, long id, int killedPid)
    {
        var managed = await ManagedJobs.OpenAsync(new ManagedJobsOptions { Home = jobs.Home, WfCommand = ["dotnet", WfProcess.WfDll] }, CancellationToken.None);
        var events = await managed.EventsAsync(id, CancellationToken.None);
        var path = events.Select(e => e.To.ToName()).ToList();
        var recovering = path.IndexOf("RECOVERING");
        Assert.True(recovering > 0, $"no RECOVERING in {string.Join(" → ", path)}");
        Assert.Equal(["RECOVERING", "RUNNING", "SUCCEEDED"], path.Skip(recovering));
        Assert.Contains("killed by signal 9", events[recovering].Message, StringComparison.Ordinal);

        var logs = await jobs.LogsAsync(id);
        var second = logs.IndexOf($"job {id} attempt 2 ", StringComparison.Ordinal);
        Assert.True(second > 0, $"no second attempt in the log:\n{logs}");
        Assert.Matches(@"teacher: resuming from checkpoint step \d+", logs[second..]);
        Assert.DoesNotContain($"job {id} attempt 3 ", logs, StringComparison.Ordinal);
        Assert.False(JobsHarness.IsAlive(killedPid));
    }

    /// <summary>The committed checkpoints (manifests) under a folder store or cache.</summary>
    internal static IEnumerable<string> Manifests(string store) =>
        Directory.Exists(store) ? Directory.EnumerateFiles(store, "wf-checkpoint.json", SearchOption.AllDirectories).Where(f => !Path.GetFileName(Path.GetDirectoryName(f)!).StartsWith('.')) : [];
}
