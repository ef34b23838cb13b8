using WrinkleFree.Jobs;
using WrinkleFree.Providers.Cloud;
using WrinkleFree.Providers.Kubernetes;
using WrinkleFree.Providers.Kubernetes.Jobs;
using WrinkleFree.Providers.Ssh;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Cli;

/// <summary>The replica providers every `wf` build registers with its daemon, the names `wf validate` plans with, and the job runners of `wf jobs`.</summary>
internal static class WfProviders
{
    /// <summary>
    /// Local processes, SSH node pools (SSH.NET only: no native dependency), Kubernetes pods (KubernetesClient, managed
    /// only), and cloud instances (AWSSDK.EC2; GCP when its compute is registered).
    /// </summary>
    public static IReadOnlyList<IReplicaProviderFactory> All { get; } = [new LocalProviderFactory(), new SshProviderFactory(), new KubernetesProviderFactory(), new CloudProviderFactory()];

    /// <summary>Where `wf jobs launch` can run a job besides this machine: Kubernetes (batch/v1 Jobs).</summary>
    public static IReadOnlyList<IJobInfrastructure> JobInfrastructures { get; } = [new KubernetesJobInfrastructure()];

    public static IReadOnlyCollection<string> Names { get; } = [.. All.Select(f => f.Name)];
}
