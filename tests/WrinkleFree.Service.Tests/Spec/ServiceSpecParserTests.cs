using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Tests.Spec;

public sealed class ServiceSpecParserTests
{
    [Fact]
    public void Parse_MinimalService_AppliesSkyServeDefaults()
    {
        var spec = ServiceSpecParser.Parse("service:\n  replicas: 2\n");

        var probe = spec.Service.ReadinessProbe;
        // Ours probes /health, where a replica answers 200 only once its model is loaded (SkyServe's default is "/").
        Assert.Equal(("/health", 1200, 15, 10, 180, 200), (probe.Path, probe.InitialDelaySeconds, probe.TimeoutSeconds,
            probe.EndpointProbeIntervalSeconds, probe.ConsecutiveFailureThresholdTimeoutSeconds, probe.LatencyThresholdMs));
        Assert.Null(probe.PostData);
        Assert.Null(probe.PostDataJson());
        Assert.Empty(probe.Headers);

        var policy = spec.Service.ReplicaPolicy;
        Assert.Equal(2, policy.MinReplicas);
        Assert.Null(policy.MaxReplicas);
        Assert.Equal(2, policy.EffectiveMaxReplicas);
        Assert.Null(policy.TargetQpsPerReplica);
        Assert.Equal((300, 1200, 0, 500, 100, 60), (policy.UpscaleDelaySeconds, policy.DownscaleDelaySeconds,
            policy.NumOverprovision, policy.TtftP50ThresholdMs, policy.QueueDepthEmergency, policy.QpsWindowSeconds));

        Assert.Equal(LoadBalancingPolicy.LeastLoad, spec.Service.LoadBalancingPolicy);
        Assert.Equal((120, 60), (spec.Service.LoadBalancer.StreamTimeoutSeconds, spec.Service.LoadBalancer.ScaleFromZeroWaitSeconds));
        Assert.Null(spec.Service.Ports);
        Assert.Null(spec.Name);
    }

    [Fact]
    public void Parse_NoTiers_OneUnlimitedFreeLocalTier()
    {
        var spec = ServiceSpecParser.Parse("name: svc\n");

        var tier = Assert.Single(spec.Tiers);
        Assert.Equal(TierSpec.DefaultLocal, tier);
        Assert.Equal(("local", TierProvider.Local, 0.0, false, false), (tier.Name, tier.Provider, tier.CostPerHour, tier.Spot, tier.ScaleToZero));
        Assert.True(tier.IsUnlimited);
        Assert.Equal(1, spec.Service.ReplicaPolicy.MinReplicas);
    }

    [Theory]
    [InlineData("least_load", LoadBalancingPolicy.LeastLoad)]
    [InlineData("least_requests", LoadBalancingPolicy.LeastLoad)]
    [InlineData("round_robin", LoadBalancingPolicy.RoundRobin)]
    [InlineData("power_of_two", LoadBalancingPolicy.PowerOfTwo)]
    [InlineData("prefix_affinity", LoadBalancingPolicy.PrefixAffinity)]
    public void Parse_LoadBalancingPolicy_MapsNamesAndAlias(string name, LoadBalancingPolicy expected)
    {
        var spec = ServiceSpecParser.Parse($"service:\n  load_balancing_policy: {name}\n");

        Assert.Equal(expected, spec.Service.LoadBalancingPolicy);
    }

    [Fact]
    public void Parse_ResourcesShapes_ReadAsTypedFields()
    {
        const string Yaml = """
            resources:
              cpus: 8
              memory: 4x
              accelerators: {A100: 8, H100: 4}
              ports: [8080, "9000-9010"]
              job_recovery: FAILOVER
              disk_size: 256
              labels: {team: infra}
              any_of:
                - infra: aws
                  use_spot: true
                - infra: k8s
            """;

        var resources = ServiceSpecParser.Parse(Yaml).Resources;

        Assert.Equal("8", resources.Cpus);
        Assert.Equal("4x", resources.Memory);
        Assert.Equal([new AcceleratorRequest("A100", 8), new AcceleratorRequest("H100", 4)], resources.Accelerators);
        Assert.Equal([PortRange.Single(8080), new PortRange(9000, 9010)], resources.Ports);
        Assert.Equal("FAILOVER", resources.JobRecovery?.Strategy);
        Assert.Equal(256, resources.DiskSize);
        Assert.Equal("infra", resources.Labels["team"]);
        Assert.Equal(2, resources.AnyOf.Count);
        Assert.True(resources.AnyOf[0].UseSpot);
        Assert.Equal("k8s", resources.AnyOf[1].Infra);
    }

    [Fact]
    public void Parse_NoServiceSection_OneReplicaProbingHealth()
    {
        var spec = ServiceSpecParser.Parse("resources:\n  cpus: 8+\n  memory: 64+\nrun: |\n  python -m inference_server --backend bitnet\n");

        Assert.Equal(1, spec.Service.ReplicaPolicy.MinReplicas);
        Assert.Equal(1, spec.Service.ReplicaPolicy.EffectiveMaxReplicas);
        Assert.Equal("/health", spec.Service.ReadinessProbe.Path);
    }

    [Fact]
    public void Parse_ReadinessProbeString_IsThePath()
    {
        var probe = ServiceSpecParser.Parse("service:\n  readiness_probe: /v1/models\n").Service.ReadinessProbe;

        Assert.Equal("/v1/models", probe.Path);
        Assert.Equal(new ReadinessProbeSpec { Path = "/v1/models" }, probe);
    }

    [Fact]
    public void Parse_TopLevelReplicaPolicy_ReadAsTheServicePolicy()
    {
        const string Yaml = """
            resources:
              use_spot: true
            replica_policy:
              min_replicas: 0       # Scale to zero
              max_replicas: 50
              target_qps_per_replica: 3.0
            """;

        var spec = ServiceSpecParser.Parse(Yaml);

        var policy = spec.Service.ReplicaPolicy;
        Assert.Equal((0, 50, 3.0), (policy.MinReplicas, policy.MaxReplicas, policy.TargetQpsPerReplica));
        Assert.Equal(spec, ServiceSpecParser.Parse(spec.ToYaml()));
    }

    [Theory]
    [InlineData("spot_recovery: EAGER_NEXT_REGION", "EAGER_NEXT_REGION", 0)]
    [InlineData("spot_recovery: {strategy: FAILOVER, max_restarts_on_errors: 2}", "FAILOVER", 2)]
    [InlineData("job_recovery: EAGER_NEXT_REGION", "EAGER_NEXT_REGION", 0)]
    public void Parse_SpotRecovery_IsJobRecovery(string line, string strategy, int restarts)
    {
        var spec = ServiceSpecParser.Parse($"resources:\n  use_spot: true\n  {line}\n");

        Assert.Equal(new JobRecoverySpec { Strategy = strategy, MaxRestartsOnErrors = restarts }, spec.Resources.JobRecovery);
        Assert.True(spec.Resources.UseSpot);
        Assert.Equal(spec, ServiceSpecParser.Parse(spec.ToYaml()));
    }

    [Fact]
    public void Parse_EnvValues_CoercedToStrings()
    {
        var spec = ServiceSpecParser.Parse("envs:\n  NUM_THREADS: 16\n  MLOCK: true\n  RATIO: 0.5\n  EMPTY: \"\"\n");

        Assert.Equal("16", spec.Envs["NUM_THREADS"]);
        Assert.Equal("true", spec.Envs["MLOCK"]);
        Assert.Equal("0.5", spec.Envs["RATIO"]);
        Assert.Equal("", spec.Envs["EMPTY"]);
    }

    [Fact]
    public void Parse_ProbeWithPostData_KeepsTheBodyAsJson()
    {
        const string Yaml = """
            service:
              readiness_probe:
                path: /v1/completions
                post_data: {model: tiny, prompt: hi, max_tokens: 1}
                headers: {Authorization: Bearer x}
            """;

        var probe = ServiceSpecParser.Parse(Yaml).Service.ReadinessProbe;

        Assert.Equal("""{"model":"tiny","prompt":"hi","max_tokens":1}""", probe.PostDataJson());
        Assert.Equal("Bearer x", probe.Headers["Authorization"]);
    }

    [Fact]
    public void Parse_TierSettings_KeepYamlTypes()
    {
        const string Yaml = """
            tiers:
              - name: pool
                provider: ssh
                capacity: 3
                settings:
                  pool: hetzner-base
                  port: 22
                  weight: 0.5
                  strict: false
                  version: "1"
                  hosts: [10.0.1.100, 10.0.1.101]
            """;

        var settings = ServiceSpecParser.Parse(Yaml).Tiers[0].Settings;

        Assert.Equal("hetzner-base", settings["pool"]);
        Assert.Equal(22L, settings["port"]);
        Assert.Equal(0.5, settings["weight"]);
        Assert.Equal(false, settings["strict"]);
        Assert.Equal("1", settings["version"]);
        Assert.Equal(["10.0.1.100", "10.0.1.101"], Assert.IsType<List<object?>>(settings["hosts"]));
    }

    [Fact]
    public void ToYaml_EveryFieldSet_RoundTripsToAnEqualSpec()
    {
        const string Yaml = """
            name: everything
            service:
              readiness_probe:
                path: /health
                initial_delay_seconds: 30
                timeout_seconds: 5
                endpoint_probe_interval_seconds: 3
                consecutive_failure_threshold_timeout: 60
                latency_threshold_ms: 150
                post_data: {model: tiny, n: [1, 2.5, true, null, "007"]}
                headers: {X-Probe: "yes"}
              replica_policy:
                min_replicas: 1
                max_replicas: 9
                target_qps_per_replica: 2
                upscale_delay_seconds: 20
                downscale_delay_seconds: 40
                num_overprovision: 1
                base_ondemand_fallback_replicas: 1
                dynamic_ondemand_fallback: true
                ttft_p50_threshold_ms: 400
                queue_depth_emergency: 50
                qps_window_seconds: 5
              load_balancing_policy: power_of_two
              load_balancer: {stream_timeout_seconds: 30, scale_from_zero_wait_seconds: 5}
              ports: 8081
              tls: {keyfile: /k.pem, certfile: /c.pem}
            resources:
              infra: aws/us-east-1
              cpus: 4+
              memory: "16"
              accelerators: [A100:8, L4]
              instance_type: m7i.2xlarge
              use_spot: false
              job_recovery: {strategy: FAILOVER, max_restarts_on_errors: 3}
              disk_size: 100
              disk_tier: high
              ports: [8081, 9000-9001]
              image_id: docker:wf:latest
              labels: {tier: "1"}
              ordered:
                - {infra: k8s}
                - {cloud: gcp, region: europe-west4}
            envs:
              A: "true"
              B: " padded "
              C: "null"
              D: "1e3"
            file_mounts:
              /models: s3://bucket/models
              /data: {source: s3://b, mode: MOUNT_CACHED}
            workdir: .
            setup: |
              echo one
              echo two
            run: "wf replica --port $PORT"
            tiers:
              - {name: base, provider: ssh, capacity: 2, cost_per_hour: 0, settings: {pool: p, hosts: [a, b]}}
              - {name: burst, provider: cloud, capacity: unlimited, cost_per_hour: 0.25, spot: true, scale_to_zero: true}
            """;
        var spec = ServiceSpecParser.Parse(Yaml);

        var yaml = spec.ToYaml();
        var again = ServiceSpecParser.Parse(yaml);

        Assert.Equal(spec, again);
        Assert.Equal(yaml, again.ToYaml());
        Assert.Equal("echo one\necho two\n", again.Setup);
        Assert.Equal(" padded ", again.Envs["B"]);
        Assert.Equal(5, again.Service.ReplicaPolicy.QpsWindowSeconds);
    }

    [Fact]
    public void Equals_DifferentTierSetting_NotEqual()
    {
        var spec = ServiceSpecParser.Parse("tiers:\n  - {name: a, provider: ssh, settings: {pool: x}}\n");
        var other = ServiceSpecParser.Parse("tiers:\n  - {name: a, provider: ssh, settings: {pool: y}}\n");

        Assert.NotEqual(spec, other);
    }

    [Fact]
    public void Equals_SettingsBuiltInCode_ComparedByValue()
    {
        var a = new TierSpec { Name = "k", Provider = TierProvider.Kubernetes, Settings = new Dictionary<string, object?> { ["labels"] = new Dictionary<string, string> { ["x"] = "1" } } };
        var b = a with { Settings = new Dictionary<string, object?> { ["labels"] = new Dictionary<string, string> { ["x"] = "1" } } };

        Assert.Equal(a, b);
    }
}
