using WrinkleFree.Jobs;
using WrinkleFree.Providers.Kubernetes.Jobs;

namespace WrinkleFree.Providers.Kubernetes.Tests.Jobs;

/// <summary>
/// <c>wf jobs</c> with <c>infra: k8s</c>: the job's controller (in-process) against the API test double on loopback, whose
/// Job controller runs pods as real local processes (bash with the task's run: script).
/// </summary>
public sealed class KubernetesJobsTests
{
    private const string Resources = "resources: {infra: k8s/double, image_id: 'docker:ghcr.io/wrinklefree/wf:test', cpus: 1+, memory: 2}";

    // A task that checkpoints a counter and a running sum (one file, written and renamed) in its checkpoint store folder
    // and resumes from it; with HOLD_AT set, a first attempt (one that resumed nothing) stops there until it is killed.
    private const string CounterScript = """
        run: |
          mkdir -p "$WF_CHECKPOINT_STORE"
          read n sum < "$WF_CHECKPOINT_STORE/state" 2>/dev/null || { n=0; sum=0; }
          resumed=$n
          echo "resuming at $n"
          while [ $n -lt 8 ]; do
            n=$((n+1)); sum=$((sum + n*n))
            echo "$n $sum" > "$WF_CHECKPOINT_STORE/state.tmp" && mv "$WF_CHECKPOINT_STORE/state.tmp" "$WF_CHECKPOINT_STORE/state"
            echo "step $n"
            if [ -n "$HOLD_AT" ] && [ $n -eq "$HOLD_AT" ] && [ $resumed -eq 0 ]; then echo holding; while true; do sleep 0.1; done; fi
          done
          echo "result $sum"
        """;

    [Fact]
    public async Task Launch_RunTask_CompletesAsJobAndLogsComeBack()
    {
        await using var cluster = await JobCluster.StartAsync();
        var job = await cluster.SubmitAsync($"name: hello\n{Resources}\nrun: |\n  echo \"hello from $WF_JOB_NAME\"\n  echo done\n", Timeout());

        Assert.Equal(JobStatus.Succeeded, await cluster.Jobs.RunControllerAsync(job.Id, Timeout()));

        var lines = new List<string>();
        await foreach (var line in cluster.Jobs.LogsAsync(job.Id, follow: true, Timeout()))
            lines.Add(line);
        Assert.Contains("hello from hello", lines);
        Assert.Contains("done", lines);
        var created = Assert.Single(cluster.Api.Jobs(JobCluster.Namespace));
        Assert.Equal(job.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), created.Metadata.Labels[TrainingJobBuilder.JobLabel]);
        Assert.Equal("hello", created.Metadata.Labels[TrainingJobBuilder.TaskLabel]);
        Assert.Equal(0, created.Spec.BackoffLimit);
        var pod = created.Spec.Template.Spec;
        Assert.Equal("Never", pod.RestartPolicy);
        Assert.Equal("ghcr.io/wrinklefree/wf:test", pod.Containers[0].Image);
        Assert.Equal("1", pod.Containers[0].Resources.Requests["cpu"].ToString());
        Assert.Equal("2Gi", pod.Containers[0].Resources.Limits["memory"].ToString());
        Assert.False(pod.Containers[0].Resources.Limits.ContainsKey("cpu"));
        Assert.Contains(created.Status.Conditions, c => c.Type == "Complete" && c.Status == "True");
        Assert.Equal(
            [JobStatus.Pending, JobStatus.Starting, JobStatus.Running, JobStatus.Succeeded],
            (await cluster.Jobs.EventsAsync(job.Id, Timeout())).Select(e => e.To).ToArray());
        Assert.NotNull((await cluster.Jobs.GetAsync(job.Id, Timeout()))!.StartedAt);
    }

    [Fact]
    public async Task Launch_PodEvictedMidRun_ResumesFromCheckpointWithUninterruptedResult()
    {
        await using var cluster = await JobCluster.StartAsync();
        // max_restarts_on_errors 0: were the eviction counted, backoffLimit 0 would fail the Job.
        var steady = await cluster.SubmitAsync($"name: steady\n{Resources}\ncheckpoint: {{store: {cluster.Folder("steady")}}}\n{CounterScript}", Timeout());
        var evicted = await cluster.SubmitAsync($"name: evicted\n{Resources}\ncheckpoint: {{store: {cluster.Folder("evicted")}}}\nenvs: {{HOLD_AT: '3'}}\n{CounterScript}", Timeout());

        Assert.Equal(JobStatus.Succeeded, await cluster.Jobs.RunControllerAsync(steady.Id, Timeout()));
        var controller = Task.Run(() => cluster.Jobs.RunControllerAsync(evicted.Id, Timeout()));
        await cluster.WaitForLogAsync(evicted, "holding", Timeout());
        await cluster.Api.EvictAsync(JobCluster.Namespace, cluster.RunningPod(evicted).Metadata.Name);

        Assert.Equal(JobStatus.Succeeded, await controller.WaitAsync(Timeout()));
        var expected = Result(await File.ReadAllTextAsync(steady.LogPath));
        Assert.Equal("result 204", expected);
        var log = await File.ReadAllTextAsync(evicted.LogPath);
        Assert.Equal(expected, Result(log));
        Assert.True(log.Contains("resuming at 3", StringComparison.Ordinal), log);
        Assert.Contains("was evicted", log, StringComparison.Ordinal);
        var done = (await cluster.Jobs.GetAsync(evicted.Id, Timeout()))!;
        Assert.Equal(1, done.Recoveries);
        var job = cluster.Api.Jobs(JobCluster.Namespace).Single(j => j.Metadata.Labels[TrainingJobBuilder.TaskLabel] == "evicted");
        Assert.Equal(0, job.Status.Failed ?? 0);
        Assert.Equal(
            [JobStatus.Pending, JobStatus.Starting, JobStatus.Running, JobStatus.Recovering, JobStatus.Running, JobStatus.Succeeded],
            (await cluster.Jobs.EventsAsync(evicted.Id, Timeout())).Select(e => e.To).ToArray());
    }

    [Fact]
    public async Task Launch_JobDeletedBySomeoneElse_IsRecreatedAndResumes()
    {
        await using var cluster = await JobCluster.StartAsync();
        var job = await cluster.SubmitAsync($"name: orphaned\n{Resources}\ncheckpoint: {{store: {cluster.Folder("orphaned")}}}\nenvs: {{HOLD_AT: '3'}}\n{CounterScript}", Timeout());
        var controller = Task.Run(() => cluster.Jobs.RunControllerAsync(job.Id, Timeout()));
        await cluster.WaitForLogAsync(job, "holding", Timeout());

        await cluster.Api.DeleteJobAsOtherAsync(JobCluster.Namespace, Assert.Single(cluster.Api.Jobs(JobCluster.Namespace)).Metadata.Name);

        Assert.Equal(JobStatus.Succeeded, await controller.WaitAsync(Timeout()));
        var log = await File.ReadAllTextAsync(job.LogPath);
        Assert.True(log.Split('\n').Count(l => l.StartsWith("result ", StringComparison.Ordinal)) == 1, log);
        Assert.Equal("result 204", Result(log));
        Assert.Contains("resuming at 3", log, StringComparison.Ordinal);
        Assert.Equal(1, (await cluster.Jobs.GetAsync(job.Id, Timeout()))!.Recoveries);
    }

    [Fact]
    public async Task Launch_TaskFailsAfterEviction_RetriesUpToMaxRestartsThenFailsNotCountingEviction()
    {
        await using var cluster = await JobCluster.StartAsync();
        var marks = cluster.Folder("marks");
        var job = await cluster.SubmitAsync($$"""
            name: flaky
            {{Resources}}
            job_recovery: {max_restarts_on_errors: 1}
            envs: {MARKS: {{marks}}}
            run: |
              if [ ! -e "$MARKS/first" ]; then touch "$MARKS/first"; echo holding; while true; do sleep 0.1; done; fi
              echo "failing"; exit 3
            """, Timeout());

        var controller = Task.Run(() => cluster.Jobs.RunControllerAsync(job.Id, Timeout()));
        await cluster.WaitForLogAsync(job, "holding", Timeout());
        await cluster.Api.EvictAsync(JobCluster.Namespace, cluster.RunningPod(job).Metadata.Name);

        Assert.Equal(JobStatus.Failed, await controller.WaitAsync(Timeout()));
        var done = (await cluster.Jobs.GetAsync(job.Id, Timeout()))!;
        Assert.Contains("exit code 3 and max_restarts_on_errors (1) is used up", done.FailureReason, StringComparison.Ordinal);
        // The evicted pod, then two that failed: one allowed restart after the first failure.
        Assert.Equal(3, cluster.Api.Pods(JobCluster.Namespace).Count);
        Assert.Equal(2, done.Recoveries);
        var kubeJob = Assert.Single(cluster.Api.Jobs(JobCluster.Namespace));
        Assert.Equal(2, kubeJob.Status.Failed);
        Assert.Contains(kubeJob.Status.Conditions, c => c.Type == "Failed" && c.Reason == "BackoffLimitExceeded");
    }

    [Fact]
    public async Task Cancel_RunningJob_DeletesJobAndPods()
    {
        await using var cluster = await JobCluster.StartAsync();
        var job = await cluster.SubmitAsync($"name: forever\n{Resources}\nrun: |\n  echo started\n  while true; do sleep 0.1; done\n", Timeout());
        var controller = Task.Run(() => cluster.Jobs.RunControllerAsync(job.Id, Timeout()));
        await cluster.WaitForLogAsync(job, "started", Timeout());

        var cancelled = await cluster.Jobs.CancelAsync(job.Id, Timeout());

        Assert.Equal(JobStatus.Cancelled, cancelled.Status);
        Assert.Equal(JobStatus.Cancelled, await controller.WaitAsync(Timeout()));
        Assert.Contains(cluster.Api.Requests, r => r.StartsWith("DELETE /apis/batch/v1/namespaces/wf/jobs/", StringComparison.Ordinal) && r.Contains("propagationPolicy=Background", StringComparison.Ordinal));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (cluster.Api.Jobs(JobCluster.Namespace).Count > 0 || cluster.Api.Pods(JobCluster.Namespace).Count > 0)
            await Task.Delay(50, deadline.Token);
    }

    [Fact]
    public async Task Queue_ControllerDied_DeletesTheClusterJobAndSaysSo()
    {
        await using var cluster = await JobCluster.StartAsync();
        var job = await cluster.SubmitAsync($"name: stranded\n{Resources}\nrun: |\n  echo started\n  while true; do sleep 0.1; done\n", Timeout());
        await DieAfterStartAsync(cluster, job);

        var queued = Assert.Single(await cluster.Jobs.QueueAsync(Timeout()));

        Assert.Equal(JobStatus.FailedController, queued.Status);
        Assert.Contains($"deleted Job {TrainingJobBuilder.Name(job)} in namespace wf and its pods", queued.FailureReason, StringComparison.Ordinal);
        await WaitUntilEmptyAsync(cluster);
    }

    [Fact]
    public async Task Cancel_ControllerDied_DeletesTheClusterJob()
    {
        await using var cluster = await JobCluster.StartAsync();
        var job = await cluster.SubmitAsync($"name: stranded\n{Resources}\nrun: |\n  echo started\n  while true; do sleep 0.1; done\n", Timeout());
        await DieAfterStartAsync(cluster, job);

        // Cancel finds the controller gone first: the job is FAILED_CONTROLLER, and its cluster Job is removed all the same.
        var cancelled = await cluster.Jobs.CancelAsync(job.Id, Timeout());

        Assert.Equal(JobStatus.FailedController, cancelled.Status);
        Assert.Contains("deleted Job", cancelled.FailureReason, StringComparison.Ordinal);
        await WaitUntilEmptyAsync(cluster);
    }

    [Fact]
    public async Task Queue_ControllerDiedAndClusterUnreachable_FailsNamingTheKubectlCommand()
    {
        await using var cluster = await JobCluster.StartAsync();
        var job = await cluster.SubmitAsync($"name: stranded\n{Resources}\nrun: |\n  echo started\n  while true; do sleep 0.1; done\n", Timeout());
        await DieAfterStartAsync(cluster, job);
        cluster.Api.Forbid("get", "jobs");

        var queued = Assert.Single(await cluster.Jobs.QueueAsync(Timeout()));

        Assert.Equal(JobStatus.FailedController, queued.Status);
        Assert.Contains($"kubectl delete job {TrainingJobBuilder.Name(job)} -n wf", queued.FailureReason, StringComparison.Ordinal);
        Assert.Single(cluster.Api.Jobs(JobCluster.Namespace));
    }

    // Runs the job's controller until its pod has started, then stops it the way a killed process stops (nothing cleaned up)
    // and makes the store name a controller pid that is gone.
    private static async Task DieAfterStartAsync(JobCluster cluster, JobRecord job)
    {
        using var kill = new CancellationTokenSource();
        var controller = Task.Run(() => cluster.Jobs.RunControllerAsync(job.Id, kill.Token));
        await cluster.WaitForLogAsync(job, "started", Timeout());
        await kill.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => controller.WaitAsync(Timeout()));
        using var gone = System.Diagnostics.Process.Start("true")!;
        await gone.WaitForExitAsync(Timeout());
        var store = await JobStore.OpenAsync(Path.Combine(cluster.Home, JobStore.FileName), TimeProvider.System, Timeout());
        await store.TransitionAsync(job.Id, j => j with { ControllerPid = gone.Id, ControllerStartTime = 1 }, null, null, Timeout());
        Assert.Single(cluster.Api.Jobs(JobCluster.Namespace));
    }

    private static async Task WaitUntilEmptyAsync(JobCluster cluster)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (cluster.Api.Jobs(JobCluster.Namespace).Count > 0 || cluster.Api.Pods(JobCluster.Namespace).Count > 0)
            await Task.Delay(50, deadline.Token);
    }

    [Fact]
    public async Task Launch_JobsCreateForbidden_FailsNamingVerbAndResource()
    {
        await using var cluster = await JobCluster.StartAsync();
        cluster.Api.Forbid("create", "jobs");
        var job = await cluster.SubmitAsync($"name: denied\n{Resources}\nrun: echo never\n", Timeout());

        Assert.Equal(JobStatus.FailedPrechecks, await cluster.Jobs.RunControllerAsync(job.Id, Timeout()));
        var done = (await cluster.Jobs.GetAsync(job.Id, Timeout()))!;
        Assert.Contains("create jobs in namespace wf", done.FailureReason, StringComparison.Ordinal);
        Assert.Contains("403", done.FailureReason, StringComparison.Ordinal);
        Assert.Empty(cluster.Api.Pods(JobCluster.Namespace));
    }

    [Fact]
    public async Task Submit_UnknownInfra_IsErrorNamingIt()
    {
        await using var cluster = await JobCluster.StartAsync();

        var error = await Assert.ThrowsAsync<TaskSpecException>(() => cluster.SubmitAsync("resources: {infra: aws/us-east-1}\nrun: echo hi\n", Timeout()));

        Assert.Contains("resources.infra", error.Message, StringComparison.Ordinal);
        Assert.Contains("aws/us-east-1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("resources: {infra: k8s, image_id: docker:wf}\nsetup: pip install x\nrun: echo hi\n", "setup")]
    [InlineData("resources: {infra: k8s, image_id: docker:wf}\nworkdir: ./train\nrun: echo hi\n", "workdir './train'")]
    [InlineData("resources: {infra: k8s}\nrun: echo hi\n", "resources.image_id")]
    [InlineData("resources: {infra: k8s, image_id: docker:wf}\ncheckpoint: {store: ckpt}\nrun: echo hi\n", "checkpoint store 'ckpt' is a folder here")]
    [InlineData("resources: {infra: k8s, image_id: docker:wf}\ntrain: {stage: teacher, out: out}\n", "train.out 'out' is a folder inside the pod")]
    public async Task Submit_WhatAPodCannotHonour_IsErrorNamingIt(string task, string named)
    {
        await using var cluster = await JobCluster.StartAsync();

        var error = await Assert.ThrowsAsync<TaskSpecException>(() => cluster.SubmitAsync(task, Timeout()));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    private static string Result(string log) => log.Split('\n').Single(l => l.StartsWith("result ", StringComparison.Ordinal));

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
}
