namespace WrinkleFree.Service.Providers;

/// <summary>
/// Where replicas run: launches, watches, stops and re-adopts replica processes on one kind of capacity (this machine,
/// an SSH pool, Kubernetes, cloud spot). Every method is idempotent and cancellable, so the controller can retry freely.
/// </summary>
public interface IReplicaProvider
{
    /// <summary>The provider's name as tiers write it (<see cref="ProviderNames"/>); handles carry it.</summary>
    string Name { get; }

    /// <summary>
    /// Starts the replica and returns its handle (store it before doing anything else). Launching a replica id that this
    /// provider already runs returns the running replica's handle instead of starting a second one.
    /// </summary>
    Task<ReplicaHandle> LaunchAsync(ReplicaLaunchRequest request, CancellationToken cancellationToken);

    /// <summary>What the provider sees of the replica: running, exited (with its code when known), preempted or unknown.</summary>
    Task<ProviderReplicaStatus> GetStatusAsync(ReplicaHandle handle, CancellationToken cancellationToken);

    /// <summary>
    /// Asks the replica to stop, waits up to <paramref name="drainTimeout"/> for it to finish in-flight work, then kills it.
    /// Stopping a replica that is already gone succeeds.
    /// </summary>
    Task StopAsync(ReplicaHandle handle, TimeSpan drainTimeout, CancellationToken cancellationToken);

    /// <summary>
    /// The replica's output lines: the last <paramref name="tail"/> (all when null), then, with <paramref name="follow"/>,
    /// new lines as they are written until the replica exits or the token is cancelled.
    /// </summary>
    IAsyncEnumerable<string> GetLogsAsync(ReplicaHandle handle, int? tail, bool follow, CancellationToken cancellationToken);

    /// <summary>
    /// Re-attaches to a replica recorded before a controller restart; true only when the handle still names the very same
    /// replica (for a process: same pid and same start time, so a reused pid is never adopted).
    /// </summary>
    Task<bool> AdoptAsync(ReplicaHandle handle, CancellationToken cancellationToken);
}
