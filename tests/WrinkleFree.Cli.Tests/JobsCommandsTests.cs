using System.Diagnostics;
using System.Text.Json;

namespace WrinkleFree.Cli.Tests;

/// <summary>`wf jobs` end to end: the real wf, detached controllers in their own sessions, bash tasks, a private WF_HOME.</summary>
public sealed class JobsCommandsTests : IAsyncLifetime
{
    private readonly JobsHarness _jobs = new("wf-jobs-cli-tests");

    [Fact]
    public async Task Launch_TaskKillsItselfOnce_RecoversAndQueueJsonShowsIt()
    {
        var task = Write("counter.yaml", """
            name: counter
            job_recovery:
              max_restarts_on_errors: 2
            run: |
              n=$(cat counter 2>/dev/null || echo 0)
              while [ $n -lt 4 ]; do
                n=$((n+1)); echo $n > counter; echo "step $n"
                if [ $n -eq 2 ] && [ "$WF_JOB_ATTEMPT" = 1 ]; then kill -9 $$; fi
              done
            """);

        var (code, stdout, stderr) = await WfAsync("jobs", "launch", task, "--json");
        Assert.True(code == 0, stderr);
        var id = JsonDocument.Parse(stdout).RootElement.GetProperty("id").GetInt64();

        var job = await WaitForStatusAsync(id, "SUCCEEDED");
        Assert.Equal(1, job.GetProperty("recoveries").GetInt32());
        Assert.Equal("counter", job.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("stage").ValueKind);
        foreach (var key in new[] { "submitted_at", "started_at", "ended_at", "duration_seconds", "checkpoint_step", "failure_reason", "log_path" })
        {
            Assert.True(job.TryGetProperty(key, out _), $"queue --json lacks {key}");
        }

        var logs = await WfAsync("jobs", "logs", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("step 2", logs.Stdout, StringComparison.Ordinal);
        Assert.Contains("step 4", logs.Stdout, StringComparison.Ordinal);
        Assert.Contains("recovering (restart 1 of 2)", logs.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogsFollow_ThenCancel_FollowEndsAndProcessGroupIsGone()
    {
        var task = Write("ticker.yaml", "run: |\n  while true; do echo tick; sleep 0.2; done\n");
        var (_, stdout, stderr) = await WfAsync("jobs", "launch", task, "-d", "--json");
        var id = JsonDocument.Parse(stdout).RootElement.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var running = await WaitForStatusAsync(long.Parse(id, System.Globalization.CultureInfo.InvariantCulture), "RUNNING");
        var pgid = running.GetProperty("task_pid").GetInt32();

        var follow = WfAsync("jobs", "logs", id, "-f");
        var cancel = await WfAsync("jobs", "cancel", id);
        Assert.True(cancel.ExitCode == 0, cancel.Stderr);
        Assert.Contains("CANCELLED", cancel.Stdout, StringComparison.Ordinal);

        var followed = await follow.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, followed.ExitCode);
        Assert.Contains("tick", followed.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists($"/proc/{pgid}") && File.ReadAllText($"/proc/{pgid}/stat").Split(' ')[2] is not "Z", $"task leader {pgid} still runs");
        Assert.Equal("CANCELLED", (await JobAsync(long.Parse(id, System.Globalization.CultureInfo.InvariantCulture))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Queue_ControllerKilled_ShowsFailedControllerAndStopsTheTask()
    {
        var task = Write("sleeper.yaml", "run: sleep 600\n");
        var (_, stdout, _) = await WfAsync("jobs", "launch", task, "-d", "--json");
        var id = JsonDocument.Parse(stdout).RootElement.GetProperty("id").GetInt64();
        var running = await WaitForStatusAsync(id, "RUNNING");
        var controller = running.GetProperty("controller_pid").GetInt32();
        var taskPid = running.GetProperty("task_pid").GetInt32();

        Process.GetProcessById(controller).Kill();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Directory.Exists($"/proc/{controller}") && File.ReadAllText($"/proc/{controller}/stat").Split(' ')[2] != "Z" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var job = await JobAsync(id);
        Assert.Equal("FAILED_CONTROLLER", job.GetProperty("status").GetString());
        Assert.Contains($"pid {controller}", job.GetProperty("failure_reason").GetString(), StringComparison.Ordinal);
        await WaitUntilAsync(() => !Directory.Exists($"/proc/{taskPid}") || File.ReadAllText($"/proc/{taskPid}/stat").Split(' ')[2] == "Z");
    }

    [Fact]
    public async Task Launch_MalformedTask_FailsWithLineAndColumn()
    {
        var task = Write("bad.yaml", "name: bad\nrun: echo hi\ncheckpoint:\n  store: /tmp/x\n  keep_last: 2\n");
        var (code, _, stderr) = await WfAsync("jobs", "launch", task, "-d");
        Assert.Equal(1, code);
        Assert.Contains("checkpoint.keep_last (line 5, column 3): unknown key 'keep_last'; did you mean 'keep_last_n'?", stderr, StringComparison.Ordinal);
        Assert.Contains("No managed jobs", (await WfAsync("jobs", "queue")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Launch_UnsupportedCheckpointScheme_ExitsConfigurationErrorWithNoJob()
    {
        var task = Write("ftp.yaml", "name: ftp\nrun: echo hi\ncheckpoint:\n  store: ftp://host/ckpt\n");
        var (code, _, stderr) = await WfAsync("jobs", "launch", task, "-d");
        Assert.Equal(64, code);
        Assert.Contains("checkpoint.store (line 4, column 10): checkpoint store 'ftp://host/ckpt' is not supported; use a folder path, s3://bucket/prefix, r2://ACCOUNT/bucket/prefix, gs://bucket/prefix or az://account/container/prefix", stderr, StringComparison.Ordinal);
        Assert.Contains("No managed jobs", (await WfAsync("jobs", "queue")).Stdout, StringComparison.Ordinal);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _jobs.DisposeAsync();

    private string Write(string name, string yaml) => _jobs.Write(name, yaml);

    private Task<JsonElement> JobAsync(long id) => _jobs.JobAsync(id);

    private Task<JsonElement> WaitForStatusAsync(long id, string status) => _jobs.WaitForStatusAsync(id, status);

    private static Task WaitUntilAsync(Func<bool> condition) => JobsHarness.WaitUntilAsync(condition, "condition", TimeSpan.FromSeconds(30));

    private Task<(int ExitCode, string Stdout, string Stderr)> WfAsync(params string[] args) => _jobs.WfAsync(args);
}
