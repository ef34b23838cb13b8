namespace WrinkleFree.Service.Controller;

/// <summary>A replica's lifecycle state, with SkyServe's names and meanings.</summary>
public enum ReplicaStatus
{
    /// <summary>Accepted by the controller, not yet handed to a provider.</summary>
    Pending,

    /// <summary>The provider is acquiring the machine, pod or process slot.</summary>
    Provisioning,

    /// <summary>The replica process runs and is being probed, never ready yet.</summary>
    Starting,

    /// <summary>Passing probes; receives traffic.</summary>
    Ready,

    /// <summary>Was started but fails, is slow, or is overloaded now; receives no traffic.</summary>
    NotReady,

    /// <summary>Draining in-flight requests before it is stopped.</summary>
    ShuttingDown,

    /// <summary>The replica process exited or the provider reported an error.</summary>
    Failed,

    /// <summary>Never passed a probe within the readiness probe's initial delay.</summary>
    FailedInitialDelay,

    /// <summary>Failed probes for longer than the consecutive-failure timeout after having been ready.</summary>
    FailedProbing,

    /// <summary>The provider could not provision it.</summary>
    FailedProvision,

    /// <summary>Stopping it failed; it may still hold resources.</summary>
    FailedCleanup,

    /// <summary>The provider took the (spot) machine away.</summary>
    Preempted,

    /// <summary>The controller lost track of it (e.g. after a restart, before re-adoption).</summary>
    Unknown,
}
