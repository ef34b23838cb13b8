using WrinkleFree.Service.Providers;

namespace WrinkleFree.Providers.Cloud;

/// <summary>Registers the cloud provider with a daemon: AWS through the SDK's default credentials, GCP when given its compute.</summary>
public sealed class CloudProviderFactory(CloudProviderOptions? options = null) : IReplicaProviderFactory
{
    /// <inheritdoc />
    public string Name => ProviderNames.Cloud;

    /// <inheritdoc />
    public IReplicaProvider Create(ReplicaProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new CloudProvider(context, options);
    }
}
