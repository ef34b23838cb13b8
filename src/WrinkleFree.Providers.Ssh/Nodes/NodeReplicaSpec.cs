using System.Globalization;

namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>
/// One replica to run on a node, as the local provider's launch request has it (a <c>run</c> script or a command, after an
/// optional setup) plus where it listens and what it may use. The runtime adds PORT, HOST, WF_SERVICE and WF_REPLICA_ID
/// to <see cref="Envs"/> (its values win).
/// </summary>
public sealed record NodeReplicaSpec
{
    public required string Service { get; init; }

    public required int ReplicaId { get; init; }

    public int Version { get; init; } = 1;

    /// <summary>A shell script run by <c>/bin/sh -c</c>.</summary>
    public string? Run { get; init; }

    /// <summary>An executable to run directly (instead of <see cref="Run"/>), with <see cref="Arguments"/>.</summary>
    public string? Command { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>A shell script run before each start, in the same environment and folder; its failure fails that run.</summary>
    public string? Setup { get; init; }

    public IReadOnlyDictionary<string, string> Envs { get; init; } = new Dictionary<string, string>();

    /// <summary>The port the replica listens on (the caller picks it: ports are per node).</summary>
    public required int Port { get; init; }

    /// <summary>The address the replica binds, as HOST tells it: the node's address, or all of them.</summary>
    public string Host { get; init; } = "0.0.0.0";

    /// <summary>The replica's folder on the node; its own replica folder when null.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>CPUs the replica may use (systemd CPUQuota); no limit when null.</summary>
    public double? Cpus { get; init; }

    /// <summary>Memory the replica may use, in GiB (systemd MemoryMax); no limit when null.</summary>
    public double? MemoryGiB { get; init; }

    /// <summary>Whether the replica locks its weights in memory (mlock), so the memlock limit is lifted.</summary>
    public bool Mlock { get; init; }

    /// <summary>How long a stop waits after SIGTERM before SIGKILL (the unit's TimeoutStopSec).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The first wait before a failed replica is started again (the supervisor doubles it up to 30 s).</summary>
    public TimeSpan RestartDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Checks the spec once, at the runtime's edge; throws <see cref="ArgumentException"/> naming the field.</summary>
    public void Validate()
    {
        if (Service is not { Length: > 0 and <= 63 } || Service[0] == '.' || !Service.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"service name '{Service}' must be 1-63 letters, digits, '-', '_' or '.', not starting with '.'", nameof(Service));
        }

        if (ReplicaId < 1)
        {
            throw new ArgumentException($"replica id must be >= 1, got {ReplicaId}", nameof(ReplicaId));
        }

        if (string.IsNullOrWhiteSpace(Run) == string.IsNullOrWhiteSpace(Command))
        {
            throw new ArgumentException("exactly one of run (a script) and command must be given", nameof(Run));
        }

        if (Port is < 1 or > 65535)
        {
            throw new ArgumentException($"port must be 1..65535, got {Port}", nameof(Port));
        }

        if (Envs.Keys.FirstOrDefault(k => k.Length == 0 || char.IsAsciiDigit(k[0]) || !k.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) is { } bad)
        {
            throw new ArgumentException($"environment variable name '{bad}' must be letters, digits and '_', not starting with a digit", nameof(Envs));
        }

        if (Cpus is <= 0 || MemoryGiB is <= 0 || DrainTimeout <= TimeSpan.Zero || RestartDelay <= TimeSpan.Zero)
        {
            throw new ArgumentException("cpus, memory, drain timeout and restart delay must be positive when given", nameof(Cpus));
        }
    }

    /// <summary>The environment the replica gets: <see cref="Envs"/> with the runtime's own variables over them.</summary>
    public IReadOnlyDictionary<string, string> Environment() => new Dictionary<string, string>(Envs)
    {
        ["PORT"] = Port.ToString(CultureInfo.InvariantCulture),
        ["HOST"] = Host,
        ["WF_SERVICE"] = Service,
        ["WF_REPLICA_ID"] = ReplicaId.ToString(CultureInfo.InvariantCulture),
    };
}
