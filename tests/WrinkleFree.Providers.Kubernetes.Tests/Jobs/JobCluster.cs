using WrinkleFree.Jobs;
using WrinkleFree.Providers.Kubernetes.Jobs;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Kubernetes;

namespace WrinkleFree.Providers.Kubernetes.Tests.Jobs;

/// <summary>
/// Managed jobs against the Kubernetes API test double: a fresh WF home whose jobs run on the double (namespace
/// <see cref="Namespace"/>, context <see cref="Context"/>), each pod's container being its command (bash with the run:
/// script) as a real local process. Controllers run in-process, as the jobs tests run them.
/// </summary>
internal sealed class JobCluster : IAsyncDisposable
{
    public const string Namespace = "wf";
    public const string Context = "double";

    private readonly TempDirectory _home;

    private JobCluster(KubernetesApiTestDouble api, ManagedJobs jobs, string kubeconfig, TempDirectory home)
    {
        _home = home;
        Api = api;
        Jobs = jobs;
        Kubeconfig = kubeconfig;
    }

    public KubernetesApiTestDouble Api { get; }

    public ManagedJobs Jobs { get; }

    public string Kubeconfig { get; }

    /// <summary>The WF home the jobs live in (the job store is here).</summary>
    public string Home => _home.Path;

    /// <summary>A folder for a test's files (checkpoint stores, marks), removed with the cluster.</summary>
    public string Folder(string name) => Directory.CreateDirectory(Path.Combine(_home.Path, "files", name)).FullName;

    public static async Task<JobCluster> StartAsync()
    {
        var api = await KubernetesApiTestDouble.StartAsync(Namespace);
        api.Containers = ProcessPodContainer.RunCommand;
        var home = new TempDirectory("wf-k8s-jobs-home");
        var kubeconfig = api.WriteKubeconfig(home.Path, Context, Namespace);
        var infrastructure = new KubernetesJobInfrastructure(
            new KubernetesProviderOptions { KubeconfigPath = kubeconfig, InCluster = false }, pollInterval: TimeSpan.FromMilliseconds(100));
        var jobs = await ManagedJobs.OpenAsync(new ManagedJobsOptions
        {
            Home = home.Path,
            WfCommand = ["wf"],
            PollInterval = TimeSpan.FromMilliseconds(100),
            Infrastructures = [infrastructure],
        }, CancellationToken.None);
        return new JobCluster(api, jobs, kubeconfig, home);
    }

    /// <summary>Submits <paramref name="yaml"/> to run in namespace <see cref="Namespace"/> (as <c>--namespace wf</c>).</summary>
    public Task<JobRecord> SubmitAsync(string yaml, CancellationToken cancellationToken) =>
        Jobs.SubmitAsync(yaml, null, null, _home.Path, new JobLaunchFlags { Namespace = Namespace }, cancellationToken);

    /// <summary>Waits until the job's log has a line containing <paramref name="text"/>.</summary>
    public async Task WaitForLogAsync(JobRecord job, string text, CancellationToken cancellationToken)
    {
        while (!(File.Exists(job.LogPath) && (await File.ReadAllTextAsync(job.LogPath, cancellationToken)).Contains(text, StringComparison.Ordinal)))
            await Task.Delay(50, cancellationToken);
    }

    /// <summary>The job's pod that runs now.</summary>
    public k8s.Models.V1Pod RunningPod(JobRecord job) =>
        Api.Pods(Namespace).Single(p => p.Metadata.Labels[TrainingJobBuilder.JobLabel] == job.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) && p.Status.Phase == "Running");

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        _home.Dispose();
    }
}
