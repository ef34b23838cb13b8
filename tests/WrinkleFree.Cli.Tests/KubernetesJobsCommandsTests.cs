using System.Globalization;
using WrinkleFree.Testing.Kubernetes;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// The real wf: `wf jobs launch --infra k8s` starts a detached controller that runs the task as a Job on the Kubernetes
/// API test double (found through KUBECONFIG), whose pods run the task's command as local processes; queue and logs read it.
/// </summary>
public sealed class KubernetesJobsCommandsTests
{
    [Fact]
    public async Task Launch_InfraK8sWithFlags_SucceedsAndLogsShowPodOutput()
    {
        await using var api = await KubernetesApiTestDouble.StartAsync("wf");
        api.Containers = ProcessPodContainer.RunCommand;
        await using var jobs = new JobsHarness("wf-k8s-jobs-cli");
        jobs.Environment["KUBECONFIG"] = api.WriteKubeconfig(jobs.Directory, "double", "wf");
        var task = jobs.Write("hello.yaml", "name: hello\nresources: {infra: k8s}\nrun: echo \"pod says $WF_JOB_NAME\"\n");

        var (code, stdout, stderr) = await jobs.WfAsync("jobs", "launch", task, "--image", "ghcr.io/wrinklefree/wf:test", "--context", "double", "--namespace", "wf", "-d", "--json");

        Assert.True(code == 0, stderr);
        var id = System.Text.Json.JsonDocument.Parse(stdout).RootElement.GetProperty("id").GetInt64();
        var done = await jobs.WaitForEndAsync(id);
        Assert.True(done.GetProperty("status").GetString() == "SUCCEEDED", $"{done}\n{await jobs.LogsAsync(id)}");
        Assert.Contains("pod says hello", await jobs.LogsAsync(id), StringComparison.Ordinal);
        var job = Assert.Single(api.Jobs("wf"));
        Assert.Equal(id.ToString(CultureInfo.InvariantCulture), job.Metadata.Labels["wrinklefree/job"]);
        Assert.Equal("ghcr.io/wrinklefree/wf:test", job.Spec.Template.Spec.Containers[0].Image);
    }

    [Fact]
    public async Task Launch_UnknownInfra_FailsNamingIt()
    {
        await using var jobs = new JobsHarness("wf-k8s-jobs-cli");
        var task = jobs.Write("t.yaml", "run: echo hi\n");

        var (code, _, stderr) = await jobs.WfAsync("jobs", "launch", task, "--infra", "hetzner", "-d");

        Assert.NotEqual(0, code);
        Assert.Contains("--infra", stderr, StringComparison.Ordinal);
        Assert.Contains("'hetzner'", stderr, StringComparison.Ordinal);
    }
}
