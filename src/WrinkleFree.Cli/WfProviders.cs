using WrinkleFree.Providers.Ssh;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Cli;

/// <summary>The replica providers every `wf` build registers with its daemon, and the names `wf validate` plans with.</summary>
internal static class WfProviders
{
    /// <summary>Local processes, and SSH node pools (SSH.NET only: no native dependency).</summary>
    public static IReadOnlyList<IReplicaProviderFactory> All { get; } = [new LocalProviderFactory(), new SshProviderFactory()];

    public static IReadOnlyCollection<string> Names { get; } = [.. All.Select(f => f.Name)];
}
