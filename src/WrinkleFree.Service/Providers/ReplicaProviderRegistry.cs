namespace WrinkleFree.Service.Providers;

/// <summary>The providers a daemon runs with, filled by the host from the factories its build carries (not a switch).</summary>
public static class ReplicaProviderRegistry
{
    /// <summary>What a build with no provider projects registers: the local provider.</summary>
    public static IReadOnlyList<IReplicaProviderFactory> Defaults { get; } = [new LocalProviderFactory()];

    /// <summary>Creates one provider per factory, keyed by name; two factories with one name are a configuration error.</summary>
    public static IReadOnlyDictionary<string, IReplicaProvider> Create(IEnumerable<IReplicaProviderFactory> factories, ReplicaProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(factories);
        ArgumentNullException.ThrowIfNull(context);
        var providers = new Dictionary<string, IReplicaProvider>(StringComparer.Ordinal);
        foreach (var factory in factories)
        {
            if (providers.ContainsKey(factory.Name))
            {
                throw new ArgumentException($"two replica providers are registered as '{factory.Name}'; each provider name may be registered once", nameof(factories));
            }

            var provider = factory.Create(context);
            if (provider.Name != factory.Name)
            {
                throw new ArgumentException($"the factory for '{factory.Name}' made a provider named '{provider.Name}'", nameof(factories));
            }

            providers[factory.Name] = provider;
        }

        return providers;
    }
}
