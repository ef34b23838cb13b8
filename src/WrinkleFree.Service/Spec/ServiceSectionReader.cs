using WrinkleFree.Platform.Specs;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Service.Spec;

/// <summary>Reads the <c>service:</c> section with SkyServe's keys and defaults.</summary>
internal static class ServiceSectionReader
{
    private static readonly string[] ServiceKeys = ["readiness_probe", "replica_policy", "replicas", "load_balancing_policy", "load_balancer", "ports", "tls", "replica_tls", "failure_policy"];

    private static readonly string[] ProbeKeys =
    [
        "path", "initial_delay_seconds", "timeout_seconds", "post_data", "headers", "endpoint_probe_interval_seconds",
        "consecutive_failure_threshold_timeout", "latency_threshold_ms",
    ];

    private static readonly Dictionary<string, string> RejectedProbeKeys = new()
    {
        ["period_seconds"] = "SkyServe no longer accepts period_seconds; the probe interval is endpoint_probe_interval_seconds",
    };

    private static readonly string[] PolicyKeys =
    [
        "min_replicas", "max_replicas", "target_qps_per_replica", "upscale_delay_seconds", "downscale_delay_seconds",
        "num_overprovision", "base_ondemand_fallback_replicas", "dynamic_ondemand_fallback", "ttft_p50_threshold_ms",
        "queue_depth_emergency", "qps_window_seconds",
    ];

    private static readonly string[] LoadBalancerKeys = ["stream_timeout_seconds", "scale_from_zero_wait_seconds", "host", "port"];

    private static readonly string[] FailurePolicyKeys = ["max_failures", "window_seconds", "initial_backoff_seconds", "max_backoff_seconds"];

    private static readonly string[] TlsKeys = ["keyfile", "certfile"];

    /// <summary>Spellings of each policy; the first is the one written back.</summary>
    internal static readonly IReadOnlyList<(string Name, LoadBalancingPolicy Policy)> PolicyNames =
    [
        ("least_load", LoadBalancingPolicy.LeastLoad),
        ("least_requests", LoadBalancingPolicy.LeastLoad),
        ("round_robin", LoadBalancingPolicy.RoundRobin),
        ("power_of_two", LoadBalancingPolicy.PowerOfTwo),
        ("prefix_affinity", LoadBalancingPolicy.PrefixAffinity),
    ];

    public static ServiceSection Read(YamlNode node, string path, YamlNodeReader reader)
    {
        var fields = reader.Map(node, path, ServiceKeys);
        var section = new ServiceSection();

        if (fields.Node("readiness_probe") is { } probe)
        {
            section = section with { ReadinessProbe = ReadProbe(probe, fields.PathOf("readiness_probe"), reader) };
        }

        if (fields.Node("replicas") is { } replicas)
        {
            if (fields.Has("replica_policy"))
            {
                throw reader.Error(fields.PathOf("replicas"), replicas,
                    "cannot be combined with replica_policy (replicas: N is shorthand for replica_policy.min_replicas: N)");
            }

            var count = reader.Int(replicas, fields.PathOf("replicas"));
            if (count > SpecLimits.MaxReplicas)
            {
                // Checked here, where the key as written is known; the validator would name replica_policy.min_replicas.
                throw reader.Error(fields.PathOf("replicas"), replicas, $"must be <= {SpecLimits.MaxReplicas} replicas, got {count}");
            }

            section = section with { ReplicaPolicy = new ReplicaPolicySpec { MinReplicas = count } };
        }

        if (fields.Node("replica_policy") is { } policy)
        {
            section = section with { ReplicaPolicy = ReadPolicy(policy, fields.PathOf("replica_policy"), reader) };
        }

        if (fields.String("load_balancing_policy") is { } policyName)
        {
            var match = PolicyNames.FirstOrDefault(p => p.Name == policyName);
            if (match.Name is null)
            {
                var names = PolicyNames.Select(p => p.Name).ToArray();
                var suggestion = KeySuggestion.Closest(policyName, names);
                throw reader.Error(fields.PathOf("load_balancing_policy"), fields.Node("load_balancing_policy")!,
                    $"unknown policy '{policyName}'; valid policies: {string.Join(", ", names)}"
                    + (suggestion is null ? "" : $" (did you mean '{suggestion}'?)"));
            }

            section = section with { LoadBalancingPolicy = match.Policy };
        }

        if (fields.Node("load_balancer") is { } balancer)
        {
            var lb = reader.Map(balancer, fields.PathOf("load_balancer"), LoadBalancerKeys);
            var defaults = new LoadBalancerSpec();
            section = section with
            {
                LoadBalancer = new LoadBalancerSpec
                {
                    StreamTimeoutSeconds = lb.Int("stream_timeout_seconds") ?? defaults.StreamTimeoutSeconds,
                    ScaleFromZeroWaitSeconds = lb.Int("scale_from_zero_wait_seconds") ?? defaults.ScaleFromZeroWaitSeconds,
                    Host = lb.String("host"),
                    Port = lb.Int("port"),
                },
            };
        }

        section = section with { Ports = fields.Int("ports") };

        if (fields.Node("failure_policy") is { } failures)
        {
            var f = reader.Map(failures, fields.PathOf("failure_policy"), FailurePolicyKeys);
            var defaults = new FailurePolicySpec();
            section = section with
            {
                FailurePolicy = new FailurePolicySpec
                {
                    MaxFailures = f.Int("max_failures") ?? defaults.MaxFailures,
                    WindowSeconds = f.Int("window_seconds") ?? defaults.WindowSeconds,
                    InitialBackoffSeconds = f.Int("initial_backoff_seconds") ?? defaults.InitialBackoffSeconds,
                    MaxBackoffSeconds = f.Int("max_backoff_seconds") ?? defaults.MaxBackoffSeconds,
                },
            };
        }

        if (fields.Node("tls") is { } tls)
        {
            var t = reader.Map(tls, fields.PathOf("tls"), TlsKeys);
            section = section with
            {
                Tls = new TlsSpec
                {
                    Keyfile = t.String("keyfile") ?? throw t.Missing("keyfile"),
                    Certfile = t.String("certfile") ?? throw t.Missing("certfile"),
                },
            };
        }

        if (fields.Bool("replica_tls") is { } replicaTls)
        {
            section = section with { ReplicaTls = replicaTls };
        }

        return section;
    }

    private static ReadinessProbeSpec ReadProbe(YamlNode node, string path, YamlNodeReader reader)
    {
        if (node is YamlScalarNode)
        {
            return new ReadinessProbeSpec { Path = reader.String(node, path) };
        }

        var fields = reader.Map(node, path, ProbeKeys, RejectedProbeKeys);
        var defaults = new ReadinessProbeSpec();
        return new ReadinessProbeSpec
        {
            // SkyServe requires path in the mapping form; the string form is the way to give only a path.
            Path = fields.String("path") ?? throw fields.Missing("path"),
            InitialDelaySeconds = fields.Int("initial_delay_seconds") ?? defaults.InitialDelaySeconds,
            TimeoutSeconds = fields.Int("timeout_seconds") ?? defaults.TimeoutSeconds,
            EndpointProbeIntervalSeconds = fields.Int("endpoint_probe_interval_seconds") ?? defaults.EndpointProbeIntervalSeconds,
            ConsecutiveFailureThresholdTimeoutSeconds = fields.Int("consecutive_failure_threshold_timeout") ?? defaults.ConsecutiveFailureThresholdTimeoutSeconds,
            LatencyThresholdMs = fields.Int("latency_threshold_ms") ?? defaults.LatencyThresholdMs,
            PostData = fields.Node("post_data") is { } body ? reader.Value(body, fields.PathOf("post_data")) : null,
            Headers = fields.Node("headers") is { } headers ? reader.StringMap(headers, fields.PathOf("headers")) : defaults.Headers,
        };
    }

    internal static ReplicaPolicySpec ReadPolicy(YamlNode node, string path, YamlNodeReader reader)
    {
        var fields = reader.Map(node, path, PolicyKeys);
        if (fields.Node("target_qps_per_replica") is YamlMappingNode perAccelerator)
        {
            throw reader.Error(fields.PathOf("target_qps_per_replica"), perAccelerator,
                "per-accelerator targets are not supported; give one number of requests per second per replica");
        }

        var defaults = new ReplicaPolicySpec { MinReplicas = 0 };
        return new ReplicaPolicySpec
        {
            MinReplicas = fields.Int("min_replicas") ?? throw fields.Missing("min_replicas"),
            MaxReplicas = fields.Int("max_replicas"),
            TargetQpsPerReplica = fields.Double("target_qps_per_replica"),
            UpscaleDelaySeconds = fields.Int("upscale_delay_seconds") ?? defaults.UpscaleDelaySeconds,
            DownscaleDelaySeconds = fields.Int("downscale_delay_seconds") ?? defaults.DownscaleDelaySeconds,
            NumOverprovision = fields.Int("num_overprovision") ?? defaults.NumOverprovision,
            BaseOndemandFallbackReplicas = fields.Int("base_ondemand_fallback_replicas"),
            DynamicOndemandFallback = fields.Bool("dynamic_ondemand_fallback"),
            TtftP50ThresholdMs = fields.Int("ttft_p50_threshold_ms") ?? defaults.TtftP50ThresholdMs,
            QueueDepthEmergency = fields.Int("queue_depth_emergency") ?? defaults.QueueDepthEmergency,
            QpsWindowSeconds = fields.Int("qps_window_seconds") ?? defaults.QpsWindowSeconds,
        };
    }
}
