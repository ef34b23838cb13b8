namespace WrinkleFree.Service.Providers;

/// <summary>The built-in <c>local</c> provider: replica processes on this machine.</summary>
public sealed class LocalProviderFactory : IReplicaProviderFactory
{
    public string Name => ProviderNames.Local;

    public IReplicaProvider Create(ReplicaProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ReplicaProviders.CreateLocal(new LocalProviderOptions { Home = context.Home }, context.Time, context.Loggers);
    }
}
