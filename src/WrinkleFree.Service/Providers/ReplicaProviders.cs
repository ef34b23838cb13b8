using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace WrinkleFree.Service.Providers;

/// <summary>Creates the built-in providers.</summary>
public static class ReplicaProviders
{
    /// <summary>The local provider: replica processes on this machine, detached so they outlive the controller.</summary>
    public static IReplicaProvider CreateLocal(LocalProviderOptions options, TimeProvider time, ILoggerFactory? loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        return new LocalProvider(options, time, (loggers ?? NullLoggerFactory.Instance).CreateLogger<LocalProvider>());
    }
}
