using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Providers.Ssh;

/// <summary>Registers the ssh provider with a daemon: nodes are reached with the home's known_hosts and the pool file's keys.</summary>
public sealed class SshProviderFactory(SshProviderOptions? options = null) : IReplicaProviderFactory
{
    /// <inheritdoc />
    public string Name => ProviderNames.Ssh;

    /// <inheritdoc />
    public IReplicaProvider Create(ReplicaProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new SshProvider(context, new SshNetConnector(SshConnectOptions.ForHome(context.Home), context.Time), options);
    }
}
