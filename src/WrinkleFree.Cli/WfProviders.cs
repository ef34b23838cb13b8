using WrinkleFree.Providers.Kubernetes;
using WrinkleFree.Providers.Ssh;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Cli;

/// <summary>The replica providers every `wf` build registers with its daemon, and the names `wf validate` plans with.</summary>
internal static class WfProviders
{
    /// <summary>Local processes, SSH node pools (SSH.NET only: no native dependency), and Kubernetes pods (KubernetesClient, managed only).</summary>
    public static IReadOnlyList<IReplicaProviderFactory> All { get; } = [new LocalProviderFactory(), new SshProviderFactory(), new KubernetesProviderFactory()];

    public static IReadOnlyCollection<string> Names { get; } = [.. All.Select(f => f.Name)];
}
