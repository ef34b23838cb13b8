using System.Globalization;
using System.Text;

namespace WrinkleFree.Service.Spec;

/// <summary>The upper bounds of <see cref="SpecLimits"/>; lower bounds and cross-field rules are in SpecValidator.cs.</summary>
internal static partial class SpecValidator
{
    private static void ValidateBounds(ServiceSpec spec)
    {
        var probe = spec.Service.ReadinessProbe;
        const string ProbePath = "service.readiness_probe";
        AtMost(probe.InitialDelaySeconds, SpecLimits.MaxSeconds, $"{ProbePath}.initial_delay_seconds", "seconds (one day)");
        AtMost(probe.TimeoutSeconds, SpecLimits.MaxSeconds, $"{ProbePath}.timeout_seconds", "seconds (one day)");
        AtMost(probe.EndpointProbeIntervalSeconds, SpecLimits.MaxSeconds, $"{ProbePath}.endpoint_probe_interval_seconds", "seconds (one day)");
        AtMost(probe.ConsecutiveFailureThresholdTimeoutSeconds, SpecLimits.MaxSeconds, $"{ProbePath}.consecutive_failure_threshold_timeout", "seconds (one day)");
        AtMost(probe.LatencyThresholdMs, SpecLimits.MaxMilliseconds, $"{ProbePath}.latency_threshold_ms", "ms (one day)");
        AtMost(probe.Headers.Count, SpecLimits.MaxEntries, $"{ProbePath}.headers", "entries");

        var policy = spec.Service.ReplicaPolicy;
        const string PolicyPath = "service.replica_policy";
        AtMost(policy.MinReplicas, SpecLimits.MaxReplicas, $"{PolicyPath}.min_replicas", "replicas");
        if (policy.MaxReplicas is { } max)
        {
            AtMost(max, SpecLimits.MaxReplicas, $"{PolicyPath}.max_replicas", "replicas");
        }

        if (policy.TargetQpsPerReplica is { } target && target > SpecLimits.MaxTargetQps)
        {
            Fail($"{PolicyPath}.target_qps_per_replica", $"must be <= {Number(SpecLimits.MaxTargetQps)}, got {Number(target)}");
        }

        AtMost(policy.UpscaleDelaySeconds, SpecLimits.MaxSeconds, $"{PolicyPath}.upscale_delay_seconds", "seconds (one day)");
        AtMost(policy.DownscaleDelaySeconds, SpecLimits.MaxSeconds, $"{PolicyPath}.downscale_delay_seconds", "seconds (one day)");
        AtMost(policy.NumOverprovision, SpecLimits.MaxReplicas, $"{PolicyPath}.num_overprovision", "replicas");
        if (policy.BaseOndemandFallbackReplicas is { } fallback)
        {
            AtMost(fallback, SpecLimits.MaxReplicas, $"{PolicyPath}.base_ondemand_fallback_replicas", "replicas");
        }

        AtMost(policy.TtftP50ThresholdMs, SpecLimits.MaxMilliseconds, $"{PolicyPath}.ttft_p50_threshold_ms", "ms (one day)");
        AtMost(policy.QueueDepthEmergency, SpecLimits.MaxQueueDepth, $"{PolicyPath}.queue_depth_emergency", "requests");
        AtMost(policy.QpsWindowSeconds, SpecLimits.MaxSeconds, $"{PolicyPath}.qps_window_seconds", "seconds (one day)");

        var balancer = spec.Service.LoadBalancer;
        AtMost(balancer.StreamTimeoutSeconds, SpecLimits.MaxSeconds, "service.load_balancer.stream_timeout_seconds", "seconds (one day)");
        AtMost(balancer.ScaleFromZeroWaitSeconds, SpecLimits.MaxSeconds, "service.load_balancer.scale_from_zero_wait_seconds", "seconds (one day)");

        var failures = spec.Service.FailurePolicy;
        AtMost(failures.MaxFailures, SpecLimits.MaxFailures, "service.failure_policy.max_failures", "failures");
        AtMost(failures.WindowSeconds, SpecLimits.MaxSeconds, "service.failure_policy.window_seconds", "seconds (one day)");
        AtMost(failures.InitialBackoffSeconds, SpecLimits.MaxSeconds, "service.failure_policy.initial_backoff_seconds", "seconds (one day)");
        AtMost(failures.MaxBackoffSeconds, SpecLimits.MaxSeconds, "service.failure_policy.max_backoff_seconds", "seconds (one day)");

        ResourceBounds(spec.Resources, "resources");
        Script(spec.Run, "run");
        Script(spec.Setup, "setup");
        AtMost(spec.Envs.Count, SpecLimits.MaxEntries, "envs", "variables");
        long envBytes = 0;
        foreach (var (name, value) in spec.Envs)
        {
            envBytes += Encoding.UTF8.GetByteCount(name) + Encoding.UTF8.GetByteCount(value);
        }

        if (envBytes > SpecLimits.MaxEnvBytes)
        {
            Fail("envs", $"names and values add up to {envBytes} bytes; at most {SpecLimits.MaxEnvBytes} (256 KiB) are allowed: put large values in a file and pass its path");
        }

        AtMost(spec.FileMounts.Count, SpecLimits.MaxEntries, "file_mounts", "mounts");
        AtMost(spec.Tiers.Count, SpecLimits.MaxTiers, "tiers", "tiers");
        for (var i = 0; i < spec.Tiers.Count; i++)
        {
            var tier = spec.Tiers[i];
            if (!tier.IsUnlimited)
            {
                AtMost(tier.Capacity, SpecLimits.MaxReplicas, $"tiers[{i}].capacity", "replicas (leave capacity out for no limit)");
            }

            if (tier.CostPerHour > SpecLimits.MaxCostPerHour)
            {
                Fail($"tiers[{i}].cost_per_hour", $"must be <= {Number(SpecLimits.MaxCostPerHour)}, got {Number(tier.CostPerHour)}");
            }
        }
    }

    private static void ResourceBounds(ResourcesSpec resources, string path)
    {
        if (resources.DiskSize is { } disk)
        {
            AtMost(disk, SpecLimits.MaxDiskGb, $"{path}.disk_size", "GB");
        }

        foreach (var accelerator in resources.Accelerators)
        {
            if (accelerator.Count > SpecLimits.MaxAccelerators)
            {
                Fail($"{path}.accelerators", $"'{accelerator}' asks for more than {Number(SpecLimits.MaxAccelerators)} accelerators");
            }
        }

        if (resources.JobRecovery is { } recovery)
        {
            AtMost(recovery.MaxRestartsOnErrors, SpecLimits.MaxFailures, $"{path}.job_recovery.max_restarts_on_errors", "restarts");
        }

        AtMost(resources.Labels.Count, SpecLimits.MaxEntries, $"{path}.labels", "labels");
        AtMost(resources.AnyOf.Count, SpecLimits.MaxTiers, $"{path}.any_of", "choices");
        AtMost(resources.Ordered.Count, SpecLimits.MaxTiers, $"{path}.ordered", "choices");
        for (var i = 0; i < resources.AnyOf.Count; i++)
        {
            ResourceBounds(resources.AnyOf[i], $"{path}.any_of[{i}]");
        }

        for (var i = 0; i < resources.Ordered.Count; i++)
        {
            ResourceBounds(resources.Ordered[i], $"{path}.ordered[{i}]");
        }
    }

    private static void Script(string? script, string path)
    {
        if (script is not null && Encoding.UTF8.GetByteCount(script) is var bytes && bytes > SpecLimits.MaxScriptBytes)
        {
            Fail(path, $"is {bytes} bytes; at most {SpecLimits.MaxScriptBytes} (64 KiB) are allowed: put a long script in a file and run that");
        }
    }

    private static void AtMost(int value, int maximum, string path, string unit)
    {
        if (value > maximum)
        {
            Fail(path, $"must be <= {maximum.ToString(CultureInfo.InvariantCulture)} {unit}, got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }
}
