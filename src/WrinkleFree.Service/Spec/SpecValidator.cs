using System.Globalization;
using System.Text.RegularExpressions;

namespace WrinkleFree.Service.Spec;

/// <summary>
/// Value and cross-field rules of a service spec. Errors carry the YAML key path only; the parser adds line and column,
/// so the same rules serve specs built in code (e.g. by <c>wf update --min-replicas</c>).
/// </summary>
internal static partial class SpecValidator
{
    public static void Validate(ServiceSpec spec)
    {
        if (spec.Name is { } name && !NamePattern().IsMatch(name))
        {
            Fail("name", $"must start with a letter and contain only letters, digits, '-', '_' or '.', got '{name}'");
        }

        // Upper bounds first: a huge number is reported as too large, not as the cross-field rule it also breaks.
        ValidateBounds(spec);
        ValidateService(spec.Service);
        ValidateResources(spec.Resources, "resources");

        foreach (var key in spec.Envs.Keys)
        {
            if (!EnvNamePattern().IsMatch(key))
            {
                Fail($"envs.{key}", $"'{key}' is not a valid environment variable name");
            }
        }

        ValidateTiers(spec);
    }

    private static void ValidateService(ServiceSection service)
    {
        var probe = service.ReadinessProbe;
        const string ProbePath = "service.readiness_probe";
        if (!probe.Path.StartsWith('/'))
        {
            Fail($"{ProbePath}.path", $"must start with '/', got '{probe.Path}'");
        }

        AtLeast(probe.InitialDelaySeconds, 0, $"{ProbePath}.initial_delay_seconds");
        AtLeast(probe.TimeoutSeconds, 1, $"{ProbePath}.timeout_seconds");
        AtLeast(probe.EndpointProbeIntervalSeconds, 1, $"{ProbePath}.endpoint_probe_interval_seconds");
        AtLeast(probe.ConsecutiveFailureThresholdTimeoutSeconds, 0, $"{ProbePath}.consecutive_failure_threshold_timeout");
        AtLeast(probe.LatencyThresholdMs, 1, $"{ProbePath}.latency_threshold_ms");

        var policy = service.ReplicaPolicy;
        const string PolicyPath = "service.replica_policy";
        AtLeast(policy.MinReplicas, 0, $"{PolicyPath}.min_replicas");
        if (policy.MaxReplicas is { } max && max < policy.MinReplicas)
        {
            Fail($"{PolicyPath}.max_replicas", $"must be >= min_replicas ({policy.MinReplicas}), got {max}");
        }

        if (policy.TargetQpsPerReplica is { } target)
        {
            if (!(target > 0) || double.IsInfinity(target))
            {
                Fail($"{PolicyPath}.target_qps_per_replica", $"must be > 0, got {Number(target)}");
            }

            // SkyServe: a target without an explicit max would autoscale between min and min, which is never what was meant.
            if (policy.MaxReplicas is null)
            {
                Fail($"{PolicyPath}.max_replicas", "is required when target_qps_per_replica is set");
            }
        }
        else if (policy.EffectiveMaxReplicas != policy.MinReplicas)
        {
            Fail($"{PolicyPath}.target_qps_per_replica",
                $"is required when min_replicas ({policy.MinReplicas}) != max_replicas ({policy.EffectiveMaxReplicas}): the autoscaler needs a target");
        }

        AtLeast(policy.UpscaleDelaySeconds, 0, $"{PolicyPath}.upscale_delay_seconds");
        AtLeast(policy.DownscaleDelaySeconds, 0, $"{PolicyPath}.downscale_delay_seconds");
        AtLeast(policy.NumOverprovision, 0, $"{PolicyPath}.num_overprovision");
        if (policy.BaseOndemandFallbackReplicas is { } fallback)
        {
            AtLeast(fallback, 0, $"{PolicyPath}.base_ondemand_fallback_replicas");
        }

        AtLeast(policy.TtftP50ThresholdMs, 1, $"{PolicyPath}.ttft_p50_threshold_ms");
        AtLeast(policy.QueueDepthEmergency, 1, $"{PolicyPath}.queue_depth_emergency");
        AtLeast(policy.QpsWindowSeconds, 1, $"{PolicyPath}.qps_window_seconds");

        AtLeast(service.LoadBalancer.StreamTimeoutSeconds, 1, "service.load_balancer.stream_timeout_seconds");
        AtLeast(service.LoadBalancer.ScaleFromZeroWaitSeconds, 0, "service.load_balancer.scale_from_zero_wait_seconds");
        if (service.LoadBalancer.Port is { } endpointPort)
        {
            Port(endpointPort, "service.load_balancer.port");
        }

        if (service.LoadBalancer.Host is { } endpointHost && !System.Net.IPAddress.TryParse(endpointHost, out _))
        {
            Fail("service.load_balancer.host",
                $"'{endpointHost}' is not an IP address; use 0.0.0.0 (every interface), 127.0.0.1 (this machine only) or one address of this machine");
        }

        var failures = service.FailurePolicy;
        AtLeast(failures.MaxFailures, 1, "service.failure_policy.max_failures");
        AtLeast(failures.WindowSeconds, 1, "service.failure_policy.window_seconds");
        AtLeast(failures.InitialBackoffSeconds, 0, "service.failure_policy.initial_backoff_seconds");
        AtLeast(failures.MaxBackoffSeconds, failures.InitialBackoffSeconds, "service.failure_policy.max_backoff_seconds");

        if (service.Ports is { } port)
        {
            Port(port, "service.ports");
        }

        if (service.Tls is { } tls)
        {
            if (string.IsNullOrWhiteSpace(tls.Keyfile))
            {
                Fail("service.tls.keyfile", "must not be empty");
            }

            if (string.IsNullOrWhiteSpace(tls.Certfile))
            {
                Fail("service.tls.certfile", "must not be empty");
            }
        }
    }

    private static void ValidateResources(ResourcesSpec resources, string path)
    {
        if (resources.Cpus is { } cpus && !CpusPattern().IsMatch(cpus))
        {
            Fail($"{path}.cpus", $"must be a count or a minimum like '8+', got '{cpus}'");
        }

        if (resources.Memory is { } memory && !MemoryPattern().IsMatch(memory))
        {
            Fail($"{path}.memory", $"must be GB, a minimum like '64+' or a multiple of the vCPUs like '4x', got '{memory}'");
        }

        if (resources.DiskSize is { } disk)
        {
            AtLeast(disk, 1, $"{path}.disk_size");
        }

        if (resources.DiskTier is { } tier && Array.IndexOf(DiskTiers, tier) < 0)
        {
            Fail($"{path}.disk_tier", $"must be one of {string.Join(", ", DiskTiers)}, got '{tier}'");
        }

        for (var i = 0; i < resources.Accelerators.Count; i++)
        {
            var accelerator = resources.Accelerators[i];
            if (string.IsNullOrWhiteSpace(accelerator.Name) || !(accelerator.Count > 0))
            {
                Fail($"{path}.accelerators", $"'{accelerator}' needs a name and a count > 0");
            }
        }

        for (var i = 0; i < resources.Ports.Count; i++)
        {
            var range = resources.Ports[i];
            Port(range.Start, $"{path}.ports");
            Port(range.End, $"{path}.ports");
            if (range.End < range.Start)
            {
                Fail($"{path}.ports", $"range '{range}' ends before it starts");
            }
        }

        if (resources.JobRecovery is { } recovery)
        {
            if (recovery.Strategy is { } strategy && !JobRecoverySpec.Strategies.Contains(strategy))
            {
                Fail($"{path}.job_recovery.strategy", $"must be one of {string.Join(", ", JobRecoverySpec.Strategies)}, got '{strategy}'");
            }

            AtLeast(recovery.MaxRestartsOnErrors, 0, $"{path}.job_recovery.max_restarts_on_errors");
        }

        for (var i = 0; i < resources.AnyOf.Count; i++)
        {
            ValidateResources(resources.AnyOf[i], $"{path}.any_of[{i}]");
        }

        for (var i = 0; i < resources.Ordered.Count; i++)
        {
            ValidateResources(resources.Ordered[i], $"{path}.ordered[{i}]");
        }
    }

    private static void ValidateTiers(ServiceSpec spec)
    {
        if (spec.Tiers.Count == 0)
        {
            Fail("tiers", "must list at least one tier (leave tiers out for one local tier)");
        }

        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        long totalCapacity = 0;
        for (var i = 0; i < spec.Tiers.Count; i++)
        {
            var tier = spec.Tiers[i];
            var path = $"tiers[{i}]";
            if (!TierNamePattern().IsMatch(tier.Name))
            {
                Fail($"{path}.name", $"must be letters, digits, '-' or '_', starting with a letter or digit, got '{tier.Name}'");
            }

            if (!seen.TryAdd(tier.Name, i))
            {
                Fail($"{path}.name", $"duplicate tier name '{tier.Name}' (already used by tiers[{seen[tier.Name]}])");
            }

            if (!Enum.IsDefined(tier.Provider))
            {
                Fail($"{path}.provider", $"unknown provider {tier.Provider}");
            }

            AtLeast(tier.Capacity, 0, $"{path}.capacity");
            if (!(tier.CostPerHour >= 0) || double.IsInfinity(tier.CostPerHour))
            {
                Fail($"{path}.cost_per_hour", $"must be >= 0, got {Number(tier.CostPerHour)}");
            }

            totalCapacity += tier.Capacity;
        }

        var min = spec.Service.ReplicaPolicy.MinReplicas;
        if (totalCapacity < min)
        {
            Fail("tiers", $"total capacity ({totalCapacity}) is below min_replicas ({min})");
        }
    }

    private static readonly string[] DiskTiers = ["low", "medium", "high", "ultra", "best"];

    private static void Port(int port, string path)
    {
        if (port is < 1 or > 65535)
        {
            Fail(path, $"must be a port between 1 and 65535, got {port}");
        }
    }

    private static void AtLeast(int value, int minimum, string path)
    {
        if (value < minimum)
        {
            Fail(path, $"must be >= {minimum}, got {value}");
        }
    }

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Fail(string path, string detail) => throw new ServiceSpecException(path, detail);

    [GeneratedRegex("^[A-Za-z]([-_.A-Za-z0-9]*[A-Za-z0-9])?$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvNamePattern();

    [GeneratedRegex("^[A-Za-z0-9][-_A-Za-z0-9]*$")]
    private static partial Regex TierNamePattern();

    [GeneratedRegex(@"^\d+(\.\d+)?\+?$")]
    private static partial Regex CpusPattern();

    [GeneratedRegex(@"^\d+(\.\d+)?[+x]?$")]
    private static partial Regex MemoryPattern();
}
