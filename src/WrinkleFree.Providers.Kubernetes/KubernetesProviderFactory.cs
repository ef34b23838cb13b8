using WrinkleFree.Service.Providers;

namespace WrinkleFree.Providers.Kubernetes;

/// <summary>Registers the kubernetes provider with a daemon: clusters come from the kubeconfig (or the pod's own account).</summary>
public sealed class KubernetesProviderFactory(KubernetesProviderOptions? options = null) : IReplicaProviderFactory
{
    /// <inheritdoc />
    public string Name => ProviderNames.Kubernetes;

    /// <inheritdoc />
    public IReplicaProvider Create(ReplicaProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new KubernetesProvider(context, options);
    }
}
