using WrinkleFree.Service.Providers;

namespace WrinkleFree.Service.Daemon;

/// <summary>Settings of the <see cref="ServiceDaemon"/>: where its state lives and what every replica gets.</summary>
public sealed record DaemonOptions
{
    /// <summary>The WrinkleFree home: state.db, daemon.json and logs/ live here.</summary>
    public required string Home { get; init; }

    /// <summary>Port of the admin API on 127.0.0.1; 0 picks a free one (written to daemon.json).</summary>
    public int AdminPort { get; init; }

    /// <summary>Variables added to every replica's environment (the spec's envs win).</summary>
    public IReadOnlyDictionary<string, string> ReplicaEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>MODEL_PATH of a replica whose spec runs `wf replica` without one (the model `wf up` with no spec serves).</summary>
    public string? DefaultModelPath { get; init; }

    /// <summary>Time between reconcile ticks; null uses each spec's probe interval.</summary>
    public TimeSpan? TickInterval { get; init; }

    /// <summary>Longest a replica leaving the service may finish its in-flight requests.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The replica providers this daemon runs (the host fills it from the provider projects its build carries).</summary>
    public IReadOnlyList<IReplicaProviderFactory> Providers { get; init; } = ReplicaProviderRegistry.Defaults;

    /// <summary>
    /// The program and arguments that run this `wf`: with it, each service's endpoint runs as a process of its own
    /// (`wf endpoint NAME`) that keeps serving while the daemon is down; without it (tests of the daemon alone) the
    /// endpoints live inside the daemon.
    /// </summary>
    public IReadOnlyList<string>? WfCommand { get; init; }

    /// <summary>Where the Prometheus file_sd target files go; null: <c>prometheus/</c> under the home.</summary>
    public string? PrometheusTargetsFolder { get; init; }

    /// <summary>
    /// Whether replicas the daemon launches require the internal key of WF_HOME/replica.key (passed to them in
    /// WF_API_KEY_FILE; the endpoint sends it when forwarding). On by default.
    /// </summary>
    public bool ReplicaKeys { get; init; } = true;

    /// <summary>The daemon's state database.</summary>
    public string StatePath => Path.Combine(Home, "state.db");

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting; returns this for chaining.</summary>
    public DaemonOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(Home))
            throw new ArgumentException("home must be a folder", nameof(Home));
        if (AdminPort is < 0 or > 65535)
            throw new ArgumentException($"admin port must be 0..65535, got {AdminPort}", nameof(AdminPort));
        return this;
    }
}
