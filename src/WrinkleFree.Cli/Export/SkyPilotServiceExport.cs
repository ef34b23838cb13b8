using System.Globalization;
using WrinkleFree.Service.Spec;
using YamlDotNet.RepresentationModel;
using static WrinkleFree.Cli.Export.SkyPilotYaml;

namespace WrinkleFree.Cli.Export;

/// <summary>
/// A service spec as a SkyServe service YAML (<c>sky serve up</c>): <c>service:</c> with readiness_probe, replica_policy
/// or replicas, <c>resources:</c> with <c>infra:</c> from the first tier, envs, setup, and <c>run: wf replica ...</c>.
/// Every written key SkyPilot has no place for is listed in the header, never dropped silently.
/// </summary>
public static partial class SkyPilotServiceExport
{
    /// <summary>The port a replica listens on when the spec names none: <c>wf replica</c>'s default.</summary>
    public const int DefaultReplicaPort = 8080;

    private const string Upstream = "SkyServe has no such setting";

    /// <summary>Builds the export of <paramref name="spec"/>, parsed from <paramref name="yaml"/>; throws <see cref="ExportException"/>.</summary>
    public static SkyPilotExport Build(ServiceSpec spec, string yaml, string? source, string? name)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var written = WrittenKeys.Read(yaml, source);
        var service = ServicePlan.NameFor(name, spec, source);
        var uncarried = new List<UncarriedKey>();
        var notes = new List<string>();
        var port = ReplicaPort(spec, written, notes);

        var root = new YamlMappingNode { { "name", Str(service) } };
        root.Add("service", Section(spec, written, port, uncarried));
        var (resources, pools) = Resources(spec, written, uncarried, notes);
        root.Add("resources", resources);

        var replica = ServicePlan.ReplicaFor(spec, machine: null, defaultModelPath: null);
        var envs = new YamlMappingNode();
        foreach (var (key, value) in replica.Envs)
            envs.Add(key, Str(value));
        // What our providers give every replica; SkyPilot gives none of them, so they are set here.
        AddEnv(envs, replica.Envs, "HOST", "0.0.0.0");
        AddEnv(envs, replica.Envs, "PORT", port.ToString(CultureInfo.InvariantCulture));
        AddEnv(envs, replica.Envs, "WF_SERVICE", service);
        root.Add("envs", envs);
        foreach (var (key, value) in replica.DerivedEnvs)
            notes.Add($"envs.{key} is set from {value}");

        if (spec.FileMounts.Count > 0)
            root.Add("file_mounts", Value(spec.FileMounts));
        if (spec.Workdir is { } workdir)
            root.Add("workdir", Str(workdir));
        if (spec.Setup is { } setup)
            root.Add("setup", Str(setup));
        root.Add("run", Str(replica.Argv is { } argv ? ShellJoin(argv) : replica.Run!));

        List<string> header =
        [
            $"SkyServe service for `sky serve up`, exported by `wf export skypilot` from {FileName(source)} (service {service}).",
        ];
        if (pools.Count > 0)
            header.Add($"First register the SSH node pools ({string.Join(", ", pools)}): copy ssh_node_pools.yaml to ~/.sky/, then `sky ssh up`.");
        header.Add($"Then: sky serve up service.yaml --name {service}");
        header.Add(replica.Argv is not null
            ? "Each replica runs `wf replica` (the serving wf must be on the machine's PATH) and listens on $HOST:$PORT."
            : "Each replica runs the spec's run: script, which must listen on $HOST:$PORT.");
        AppendUncarried(header, uncarried);
        return new SkyPilotExport
        {
            Kind = SkyPilotKind.Service,
            Name = service,
            Yaml = Render(header, root),
            Pools = pools,
            Uncarried = uncarried,
            Notes = notes,
        };
    }

    /// <summary>The header's list of what SkyPilot cannot take, or the line saying there is nothing.</summary>
    internal static void AppendUncarried(List<string> header, List<UncarriedKey> uncarried)
    {
        if (uncarried.Count == 0)
        {
            header.Add("Every key of the spec is carried over.");
            return;
        }

        header.Add("Not carried over (SkyPilot has no equivalent):");
        header.AddRange(uncarried.Select(u => $"  {u}"));
    }

    internal static string FileName(string? source) => source is null ? "standard input" : Path.GetFileName(source);

    private static int ReplicaPort(ServiceSpec spec, WrittenKeys written, List<string> notes)
    {
        if (spec.Resources.Ports.Count > 1 || spec.Resources.Ports is [{ Start: var start, End: var end }] && start != end)
            throw written.Error("resources.ports", "a replica serves on one port; give one (SkyServe sends every request to that port)");
        if ((spec.Service.Ports ?? (spec.Resources.Ports is [var single] ? single.Start : null)) is { } port)
            return port;
        notes.Add($"service.ports is {DefaultReplicaPort}, wf replica's default port (the spec names none; SkyServe needs one)");
        return DefaultReplicaPort;
    }

    private static YamlMappingNode Section(ServiceSpec spec, WrittenKeys written, int port, List<UncarriedKey> uncarried)
    {
        var section = new YamlMappingNode { { "readiness_probe", Probe(spec.Service.ReadinessProbe, written, uncarried) } };
        var policyPath = written.Has("replica_policy") ? "replica_policy" : "service.replica_policy";
        var policy = spec.Service.ReplicaPolicy;
        if (policy.TargetQpsPerReplica is null && policy.EffectiveMaxReplicas == policy.MinReplicas && policy.NumOverprovision == 0
            && policy.BaseOndemandFallbackReplicas is null && policy.DynamicOndemandFallback is null)
        {
            // A fixed count: SkyServe's shorthand, which also keeps its autoscaler out of the way.
            section.Add("replicas", Int(policy.MinReplicas));
        }
        else
        {
            var map = new YamlMappingNode { { "min_replicas", Int(policy.MinReplicas) } };
            if (policy.MaxReplicas is { } max)
                map.Add("max_replicas", Int(max));
            if (policy.TargetQpsPerReplica is { } qps)
                map.Add("target_qps_per_replica", Num(qps));
            map.Add("upscale_delay_seconds", Int(policy.UpscaleDelaySeconds));
            map.Add("downscale_delay_seconds", Int(policy.DownscaleDelaySeconds));
            if (policy.NumOverprovision != 0)
                map.Add("num_overprovision", Int(policy.NumOverprovision));
            if (policy.BaseOndemandFallbackReplicas is { } baseOd)
                map.Add("base_ondemand_fallback_replicas", Int(baseOd));
            if (policy.DynamicOndemandFallback is { } dynamic)
                map.Add("dynamic_ondemand_fallback", Bool(dynamic));
            section.Add("replica_policy", map);
        }

        Drop(written, uncarried, $"{policyPath}.ttft_p50_threshold_ms", "our autoscaler's latency target; SkyServe scales on request rate only");
        Drop(written, uncarried, $"{policyPath}.queue_depth_emergency", "our autoscaler's queue target; SkyServe scales on request rate only");
        Drop(written, uncarried, $"{policyPath}.qps_window_seconds", "SkyServe measures the request rate over a fixed 60 s");

        if (written.Has("service.load_balancing_policy"))
        {
            if (spec.Service.LoadBalancingPolicy == LoadBalancingPolicy.PowerOfTwo)
                Drop(written, uncarried, "service.load_balancing_policy", "power_of_two is ours; SkyServe uses its default, least_load");
            else if (spec.Service.LoadBalancingPolicy == LoadBalancingPolicy.PrefixAffinity)
                Drop(written, uncarried, "service.load_balancing_policy", "prefix_affinity is ours; SkyServe uses its default, least_load");
            else
                section.Add("load_balancing_policy", Str(spec.Service.LoadBalancingPolicy == LoadBalancingPolicy.RoundRobin ? "round_robin" : "least_load"));
        }

        if (written.Has("service.load_balancer.stream_timeout_seconds"))
            section.Add("load_balancer", new YamlMappingNode { { "stream_timeout_seconds", Int(spec.Service.LoadBalancer.StreamTimeoutSeconds) } });
        Drop(written, uncarried, "service.load_balancer.scale_from_zero_wait_seconds", "ours: how long a request waits for the first replica; " + Upstream);
        Drop(written, uncarried, "service.load_balancer.host", "SkyServe chooses where its load balancer listens");
        Drop(written, uncarried, "service.load_balancer.port", "SkyServe chooses the endpoint's port");

        section.Add("ports", Int(port));
        if (spec.Service.Tls is { } tls)
            section.Add("tls", new YamlMappingNode { { "keyfile", Str(tls.Keyfile) }, { "certfile", Str(tls.Certfile) } });
        Drop(written, uncarried, "service.replica_tls", "security setting: mutual TLS between load balancer and replicas; SkyServe's load balancer speaks plain HTTP to replicas");
        Drop(written, uncarried, "service.failure_policy", "our backoff and give-up rule for failing replicas; " + Upstream);
        return section;
    }

    private static YamlNode Probe(ReadinessProbeSpec probe, WrittenKeys written, List<UncarriedKey> uncarried)
    {
        const string at = "service.readiness_probe";
        Drop(written, uncarried, $"{at}.latency_threshold_ms", "our latency bound on probes; SkyServe's probe checks the status code only");
        var map = new YamlMappingNode { { "path", Str(probe.Path) } };
        if (written.Has($"{at}.initial_delay_seconds"))
            map.Add("initial_delay_seconds", Int(probe.InitialDelaySeconds));
        if (written.Has($"{at}.timeout_seconds"))
            map.Add("timeout_seconds", Int(probe.TimeoutSeconds));
        if (written.Has($"{at}.endpoint_probe_interval_seconds"))
            map.Add("endpoint_probe_interval_seconds", Int(probe.EndpointProbeIntervalSeconds));
        if (written.Has($"{at}.consecutive_failure_threshold_timeout"))
            map.Add("consecutive_failure_threshold_timeout", Int(probe.ConsecutiveFailureThresholdTimeoutSeconds));
        if (probe.PostData is { } body)
            map.Add("post_data", Value(body));
        if (probe.Headers.Count > 0)
            map.Add("headers", Value(probe.Headers.ToDictionary(h => h.Key, h => (object?)h.Value)));
        // Only a path: SkyServe's string form. Our default path (/health) is always written: SkyServe's default is "/".
        return map.Children.Count == 1 ? Str(probe.Path) : map;
    }

    private static void Drop(WrittenKeys written, List<UncarriedKey> uncarried, string key, string why)
    {
        if (written.Has(key))
            uncarried.Add(new UncarriedKey(key, why));
    }

    private static void AddEnv(YamlMappingNode envs, IReadOnlyDictionary<string, string> given, string key, string value)
    {
        if (!given.ContainsKey(key))
            envs.Add(key, Str(value));
    }

    /// <summary>An argv as one shell line: words quoted only where the shell would split or expand them.</summary>
    internal static string ShellJoin(IEnumerable<string> argv) => string.Join(' ', argv.Select(ShellWord));

    private static string ShellWord(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c, StringComparison.Ordinal))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
