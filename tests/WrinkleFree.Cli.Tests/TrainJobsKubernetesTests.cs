using System.Diagnostics;
using System.Text.Json;
using WrinkleFree.Testing.Kubernetes;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// `wf jobs launch` of a `train:` task on Kubernetes, against the Kubernetes API test double: the detached job controller
/// (a real `wf` process, KUBECONFIG pointing at the double) creates a batch/v1 Job whose pod runs the image's `wf train`
/// (here the built wf as a local process). The pod is evicted after its first checkpoint; a new pod resumes from the
/// checkpoint store and the final weights equal an uninterrupted run's, bit for bit.
/// </summary>
public sealed class TrainJobsKubernetesTests
{
    private const string Namespace = "wf";

    [Fact]
    public async Task Launch_TrainPodEvictedAfterACheckpoint_ResumesAndEndsBitwiseLikeAnUninterruptedRun()
    {
        var reference = TeacherJob.ReferenceWeightsAsync();
        await using var api = await KubernetesApiTestDouble.StartAsync(Namespace);
        // The image's entrypoint is wf: the double runs the built one with the pod's command line and environment.
        api.Containers = start =>
        {
            var command = start.Pod.Spec.Containers[0].Command;
            Assert.Equal("wf", command[0]);
            var info = new ProcessStartInfo("dotnet") { WorkingDirectory = start.FilesFolder };
            info.ArgumentList.Add(WfProcess.WfDll);
            foreach (var argument in command.Skip(1))
                info.ArgumentList.Add(argument);
            foreach (var (key, value) in start.Environment)
                info.Environment[key] = value;
            return ProcessPodContainer.Start(info, start.LoopbackPort);
        };
        await using var jobs = new JobsHarness("wf-train-k8s");
        jobs.Environment["KUBECONFIG"] = api.WriteKubeconfig(jobs.Directory, "double", Namespace);
        // Absolute paths stand for a volume every pod mounts (the double's pods are processes on this machine).
        var store = Path.Combine(jobs.Directory, "volume", "ckpt");
        var output = Path.Combine(jobs.Directory, "volume", "out");
        var id = await jobs.LaunchAsync(jobs.Write("teach.yaml", TeacherJob.Task("teach", store, output: output, maxRestarts: 0,
            resources: "{infra: k8s/double, image_id: 'docker:ghcr.io/wrinklefree/wf:test', cpus: 1+}")));

        await JobsHarness.WaitUntilAsync(() => TrainJobsTests.Manifests(store).Any(), "a committed checkpoint", TimeSpan.FromSeconds(120));
        var pod = api.Pods(Namespace).Single(p => p.Status.Phase == "Running");
        await api.EvictAsync(Namespace, pod.Metadata.Name);

        var done = await jobs.WaitForStatusAsync(id, "SUCCEEDED");
        Assert.Equal(1, done.GetProperty("recoveries").GetInt32());
        Assert.Equal("teacher", done.GetProperty("stage").GetString());
        Assert.Equal(2, api.Pods(Namespace).Count);
        var logs = await jobs.LogsAsync(id);
        Assert.Contains("was evicted", logs, StringComparison.Ordinal);
        Assert.Matches(@"teacher: resuming from checkpoint step \d+", logs);
        Assert.Equal(await reference, await File.ReadAllBytesAsync(Path.Combine(output, "model.safetensors")));
        var kubeJob = Assert.Single(api.Jobs(Namespace));
        Assert.Contains(kubeJob.Status.Conditions, c => c.Type == "Complete" && c.Status == "True");
        Assert.Equal(JsonValueKind.Null, done.GetProperty("task_pid").ValueKind);
    }
}
