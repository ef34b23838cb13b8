namespace WrinkleFree.Service.Providers;

/// <summary>
/// Everything a provider needs to start one replica: who it is, and either a <c>run</c> script (run by <c>/bin/sh -c</c>)
/// or a direct command, after an optional <c>setup</c> script. The provider adds PORT and HOST to <see cref="Envs"/> (its values win) and tells the replica
/// where to listen.
/// </summary>
public sealed record ReplicaLaunchRequest
{
    public required string Service { get; init; }

    public required int ReplicaId { get; init; }

    public int Version { get; init; } = 1;

    public required string Tier { get; init; }

    /// <summary>The tier's <c>spot:</c>: a cloud provider asks for spot capacity.</summary>
    public bool Spot { get; init; }

    /// <summary>A shell script, as a spec's <c>run:</c> holds it.</summary>
    public string? Run { get; init; }

    /// <summary>An executable to run directly (instead of <see cref="Run"/>), with <see cref="Arguments"/>.</summary>
    public string? Command { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>A shell script run once before the command, in the same environment and folder; its failure fails the replica.</summary>
    public string? Setup { get; init; }

    public IReadOnlyDictionary<string, string> Envs { get; init; } = new Dictionary<string, string>();

    /// <summary>A port to use if it is free; otherwise the provider picks one.</summary>
    public int? PortHint { get; init; }

    public string? WorkingDirectory { get; init; }

    /// <summary>The tier's <c>settings:</c> (an SSH pool's name, a Kubernetes namespace), for providers that place by them.</summary>
    public IReadOnlyDictionary<string, object?> TierSettings { get; init; } = new Dictionary<string, object?>();

    /// <summary>The spec's <c>resources:</c> (cpus, memory): how much of a node one replica takes.</summary>
    public Spec.ResourcesSpec Resources { get; init; } = new();

    /// <summary>
    /// Set when the replica must serve mutual TLS: the provider has it issue the replica's certificate for the address the
    /// replica listens on, tells the replica the files (WF_TLS_CERT, WF_TLS_KEY, WF_TLS_CLIENT_CA) and records an https
    /// endpoint. The controller sets it for every replica on another machine, and for local ones when the spec's
    /// <c>service.replica_tls</c> says so.
    /// </summary>
    public Tls.IReplicaCertificateIssuer? Tls { get; init; }

    /// <summary>Checks the request once, at the provider's edge; throws <see cref="ArgumentException"/> naming the field.</summary>
    public void Validate()
    {
        if (!IsSafeName(Service))
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

        if (PortHint is < 1 or > 65535)
        {
            throw new ArgumentException($"port hint must be 1..65535, got {PortHint}", nameof(PortHint));
        }
    }

    // The name becomes a folder under the WF home, so nothing that could climb out of it.
    private static bool IsSafeName(string name) =>
        name is { Length: > 0 and <= 63 } && name[0] != '.' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
