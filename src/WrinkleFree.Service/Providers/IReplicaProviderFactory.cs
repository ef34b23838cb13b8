namespace WrinkleFree.Service.Providers;

/// <summary>
/// Makes one provider for the daemon. Providers that pull heavy SDKs (SSH, Kubernetes, cloud) live in their own projects
/// beside the service and hand the host a factory; the daemon only ever sees this seam, so a build carries only the
/// providers it registers.
/// </summary>
public interface IReplicaProviderFactory
{
    /// <summary>The name tiers use in <c>provider:</c> (see <see cref="ProviderNames"/>).</summary>
    string Name { get; }

    /// <summary>Creates the provider for one daemon.</summary>
    IReplicaProvider Create(ReplicaProviderContext context);
}
