namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>
/// What identifies one replica on a node, as the provider stores it in its handle: the replica, how it runs, its port, and
/// the process (pid with its start time in clock ticks since boot, /proc/PID/stat field 22, and the boot id) so that a
/// restarted controller adopts only the very process it launched.
/// </summary>
public sealed record NodeReplica
{
    public required string Service { get; init; }

    public required int ReplicaId { get; init; }

    public required NodeRuntimeMode Mode { get; init; }

    /// <summary>The port the replica listens on, on the node's address.</summary>
    public required int Port { get; init; }

    /// <summary>The replica's process (the unit's MainPID, or the supervisor's child); null while it is being restarted.</summary>
    public int? Pid { get; init; }

    /// <summary>The process's start time in clock ticks since boot.</summary>
    public long? StartTime { get; init; }

    /// <summary>The node's boot id when the process was seen.</summary>
    public string? BootId { get; init; }

    /// <summary>The log file on the node (every run appends to it).</summary>
    public required string LogPath { get; init; }

    /// <summary>The systemd unit, for <see cref="NodeRuntimeMode.Systemd"/>.</summary>
    public string? UnitName { get; init; }
}
