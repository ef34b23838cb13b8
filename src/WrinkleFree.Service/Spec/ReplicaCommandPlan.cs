namespace WrinkleFree.Service.Spec;

/// <summary>
/// What every replica of a service runs: a direct command (<see cref="Argv"/>, e.g. <c>wf replica</c>) or the spec's
/// <c>run:</c> script, after <see cref="Setup"/>, in <see cref="Workdir"/>, with <see cref="Envs"/> plus what the provider
/// adds for each replica (<see cref="ProviderEnvs"/>).
/// </summary>
public sealed record ReplicaCommandPlan
{
    /// <summary>Variables the provider sets for each replica; a replica must listen on HOST:PORT.</summary>
    public static IReadOnlyList<string> ProviderEnvs { get; } = ["HOST", "PORT", "WF_SERVICE", "WF_REPLICA_ID"];

    /// <summary>The program and its arguments, run without a shell (<c>wf</c> is found on the replica's PATH); null for a script.</summary>
    public IReadOnlyList<string>? Argv { get; init; }

    /// <summary>The <c>run:</c> script as written, run by <c>/bin/sh -c</c>; null when <see cref="Argv"/> is given.</summary>
    public string? Run { get; init; }

    /// <summary>Why the replica runs this: which form of the spec it came from.</summary>
    public required string Origin { get; init; }

    /// <summary>The <c>setup:</c> script, run once per replica before the command (same environment and folder).</summary>
    public string? Setup { get; init; }

    /// <summary>The absolute folder the setup and the command run in; null for the daemon's own.</summary>
    public string? Workdir { get; init; }

    /// <summary>The spec's envs plus the ones derived for a <c>wf replica</c> command (see <see cref="DerivedEnvs"/>).</summary>
    public IReadOnlyDictionary<string, string> Envs { get; init; } = new Dictionary<string, string>();

    /// <summary>Variables this plan added, each with where its value came from.</summary>
    public IReadOnlyDictionary<string, string> DerivedEnvs { get; init; } = new Dictionary<string, string>();

    /// <summary>The port a replica asks its provider for (service.ports, else resources.ports); the provider may pick another.</summary>
    public int? PortHint { get; init; }
}
