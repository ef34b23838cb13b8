using System.Collections;
using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Service.Spec;

/// <summary>
/// Writes a <see cref="ServiceSpec"/> back to YAML in the parser's own vocabulary. The service section is written in full so
/// the stored copy of a deployed spec shows every default in force.
/// </summary>
internal static class SpecYamlWriter
{
    public static string Write(ServiceSpec spec)
    {
        var root = new YamlMappingNode();
        AddString(root, "name", spec.Name);
        root.Add("service", Service(spec.Service));
        var resources = Resources(spec.Resources);
        if (resources.Children.Count > 0)
        {
            root.Add("resources", resources);
        }

        if (spec.Envs.Count > 0)
        {
            root.Add("envs", StringMap(spec.Envs));
        }

        if (spec.FileMounts.Count > 0)
        {
            root.Add("file_mounts", Value(spec.FileMounts));
        }

        AddString(root, "workdir", spec.Workdir);
        AddString(root, "setup", spec.Setup);
        AddString(root, "run", spec.Run);

        var tiers = new YamlSequenceNode();
        foreach (var tier in spec.Tiers)
        {
            tiers.Add(Tier(tier));
        }

        root.Add("tiers", tiers);

        var writer = new StringWriter(CultureInfo.InvariantCulture);
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);

        // YamlStream always closes the document with "..."; a single-document file reads better without it.
        var text = writer.ToString();
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    private static YamlMappingNode Service(ServiceSection service)
    {
        var probe = service.ReadinessProbe;
        var probeNode = new YamlMappingNode
        {
            { "path", Text(probe.Path) },
            { "initial_delay_seconds", Int(probe.InitialDelaySeconds) },
            { "timeout_seconds", Int(probe.TimeoutSeconds) },
            { "endpoint_probe_interval_seconds", Int(probe.EndpointProbeIntervalSeconds) },
            { "consecutive_failure_threshold_timeout", Int(probe.ConsecutiveFailureThresholdTimeoutSeconds) },
            { "latency_threshold_ms", Int(probe.LatencyThresholdMs) },
        };
        if (probe.PostData is not null)
        {
            probeNode.Add("post_data", Value(probe.PostData));
        }

        if (probe.Headers.Count > 0)
        {
            probeNode.Add("headers", StringMap(probe.Headers));
        }

        var policy = service.ReplicaPolicy;
        var policyNode = new YamlMappingNode { { "min_replicas", Int(policy.MinReplicas) } };
        if (policy.MaxReplicas is { } max)
        {
            policyNode.Add("max_replicas", Int(max));
        }

        if (policy.TargetQpsPerReplica is { } target)
        {
            policyNode.Add("target_qps_per_replica", Real(target));
        }

        policyNode.Add("upscale_delay_seconds", Int(policy.UpscaleDelaySeconds));
        policyNode.Add("downscale_delay_seconds", Int(policy.DownscaleDelaySeconds));
        policyNode.Add("num_overprovision", Int(policy.NumOverprovision));
        if (policy.BaseOndemandFallbackReplicas is { } fallback)
        {
            policyNode.Add("base_ondemand_fallback_replicas", Int(fallback));
        }

        if (policy.DynamicOndemandFallback is { } dynamic)
        {
            policyNode.Add("dynamic_ondemand_fallback", Bool(dynamic));
        }

        policyNode.Add("ttft_p50_threshold_ms", Int(policy.TtftP50ThresholdMs));
        policyNode.Add("queue_depth_emergency", Int(policy.QueueDepthEmergency));
        policyNode.Add("qps_window_seconds", Int(policy.QpsWindowSeconds));

        var node = new YamlMappingNode
        {
            { "readiness_probe", probeNode },
            { "replica_policy", policyNode },
            { "load_balancing_policy", Text(ServiceSectionReader.PolicyNames.First(p => p.Policy == service.LoadBalancingPolicy).Name) },
            { "load_balancer", LoadBalancerNode(service.LoadBalancer) },
            {
                "failure_policy", new YamlMappingNode
                {
                    { "max_failures", Int(service.FailurePolicy.MaxFailures) },
                    { "window_seconds", Int(service.FailurePolicy.WindowSeconds) },
                    { "initial_backoff_seconds", Int(service.FailurePolicy.InitialBackoffSeconds) },
                    { "max_backoff_seconds", Int(service.FailurePolicy.MaxBackoffSeconds) },
                }
            },
        };
        if (service.Ports is { } port)
        {
            node.Add("ports", Int(port));
        }

        if (service.Tls is { } tls)
        {
            node.Add("tls", new YamlMappingNode { { "keyfile", Text(tls.Keyfile) }, { "certfile", Text(tls.Certfile) } });
        }

        if (service.ReplicaTls)
        {
            node.Add("replica_tls", Bool(true));
        }

        return node;
    }

    private static YamlMappingNode Resources(ResourcesSpec resources)
    {
        var node = new YamlMappingNode();
        AddString(node, "infra", resources.Infra);
        AddString(node, "cloud", resources.Cloud);
        AddString(node, "region", resources.Region);
        AddString(node, "zone", resources.Zone);
        AddString(node, "cpus", resources.Cpus);
        AddString(node, "memory", resources.Memory);
        if (resources.Accelerators.Count > 0)
        {
            node.Add("accelerators", new YamlSequenceNode(resources.Accelerators.Select(a => (YamlNode)Text(a.ToString()))));
        }

        AddString(node, "instance_type", resources.InstanceType);
        if (resources.UseSpot is { } spot)
        {
            node.Add("use_spot", Bool(spot));
        }

        if (resources.JobRecovery is { } recovery)
        {
            var recoveryNode = new YamlMappingNode();
            AddString(recoveryNode, "strategy", recovery.Strategy);
            recoveryNode.Add("max_restarts_on_errors", Int(recovery.MaxRestartsOnErrors));
            node.Add("job_recovery", recoveryNode);
        }

        if (resources.DiskSize is { } disk)
        {
            node.Add("disk_size", Int(disk));
        }

        AddString(node, "disk_tier", resources.DiskTier);
        if (resources.Ports.Count > 0)
        {
            node.Add("ports", new YamlSequenceNode(resources.Ports.Select(p => (YamlNode)Text(p.ToString()))));
        }

        AddString(node, "image_id", resources.ImageId);
        if (resources.Labels.Count > 0)
        {
            node.Add("labels", StringMap(resources.Labels));
        }

        if (resources.AnyOf.Count > 0)
        {
            node.Add("any_of", new YamlSequenceNode(resources.AnyOf.Select(r => (YamlNode)Resources(r))));
        }

        if (resources.Ordered.Count > 0)
        {
            node.Add("ordered", new YamlSequenceNode(resources.Ordered.Select(r => (YamlNode)Resources(r))));
        }

        return node;
    }

    private static YamlMappingNode Tier(TierSpec tier)
    {
        var node = new YamlMappingNode
        {
            { "name", Text(tier.Name) },
            { "provider", Text(TierReader.ProviderNames.First(p => p.Provider == tier.Provider).Name) },
            { "capacity", tier.IsUnlimited ? Text(TierReader.Unlimited) : Int(tier.Capacity) },
            { "cost_per_hour", Real(tier.CostPerHour) },
            { "spot", Bool(tier.Spot) },
            { "scale_to_zero", Bool(tier.ScaleToZero) },
        };
        if (tier.Settings.Count > 0)
        {
            node.Add("settings", Value(tier.Settings));
        }

        return node;
    }

    private static void AddString(YamlMappingNode node, string key, string? value)
    {
        if (value is not null)
        {
            node.Add(key, Text(value));
        }
    }

    private static YamlMappingNode StringMap(IReadOnlyDictionary<string, string> map)
    {
        var node = new YamlMappingNode();
        foreach (var (key, value) in map)
        {
            node.Add(Text(key), Text(value));
        }

        return node;
    }

    /// <summary>Free-form values keep their YAML type: strings that would read back as something else are quoted.</summary>
    private static YamlNode Value(object? value) => value switch
    {
        null => new YamlScalarNode("null"),
        string text => Text(text),
        bool flag => Bool(flag),
        double real => Real(real),
        float real => Real(real),
        IFormattable number => new YamlScalarNode(number.ToString(null, CultureInfo.InvariantCulture)),
        IEnumerable<KeyValuePair<string, object?>> map => new YamlMappingNode(map.Select(kv => new KeyValuePair<YamlNode, YamlNode>(Text(kv.Key), Value(kv.Value)))),
        IEnumerable list => new YamlSequenceNode(list.Cast<object?>().Select(Value)),
        _ => Text(value.ToString() ?? ""),
    };

    private static YamlMappingNode LoadBalancerNode(LoadBalancerSpec balancer)
    {
        var node = new YamlMappingNode
        {
            { "stream_timeout_seconds", Int(balancer.StreamTimeoutSeconds) },
            { "scale_from_zero_wait_seconds", Int(balancer.ScaleFromZeroWaitSeconds) },
        };
        if (balancer.Host is { } host)
        {
            node.Add("host", Text(host));
        }

        if (balancer.Port is { } port)
        {
            node.Add("port", Int(port));
        }

        return node;
    }

    private static YamlScalarNode Int(int value) => new(value.ToString(CultureInfo.InvariantCulture));

    private static YamlScalarNode Bool(bool value) => new(value ? "true" : "false");

    /// <summary>Always with a decimal point or exponent, so a free-form double does not come back as an integer.</summary>
    private static YamlScalarNode Real(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return new YamlScalarNode(text.AsSpan().IndexOfAny('.', 'E') < 0 ? text + ".0" : text);
    }

    private static YamlScalarNode Text(string value)
    {
        if (value.Contains('\n'))
        {
            return new YamlScalarNode(value) { Style = ScalarStyle.Literal };
        }

        return NeedsQuotes(value)
            ? new YamlScalarNode(value) { Style = ScalarStyle.DoubleQuoted }
            : new YamlScalarNode(value);
    }

    /// <summary>Plain text that YAML would resolve to null, a boolean or a number must be quoted to stay a string.</summary>
    private static bool NeedsQuotes(string value) =>
        value.Length == 0
        || value.Trim() != value
        || value is "~" || value.Equals("null", StringComparison.OrdinalIgnoreCase)
        || value.ToLowerInvariant() is "true" or "false" or "yes" or "no" or "on" or "off"
        || double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
