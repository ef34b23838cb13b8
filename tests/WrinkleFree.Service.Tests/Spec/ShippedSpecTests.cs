using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Spec;

/// <summary>
/// deploy/: the design's three service YAMLs exactly as the design writes them (only comment lines added), what they
/// plan to on a big machine, and the hybrid-tier example that needs the providers of issues 13-15.
/// </summary>
public sealed class ShippedSpecTests
{
    /// <summary>The design's YAMLs, verbatim.</summary>
    public static TheoryData<string, string> DesignYamls => new()
    {
        {
            "service-dev.yaml",
            """
            resources:
              cpus: 8+
              memory: 64+

            run: |
              python -m inference_server --backend bitnet --model /models/dev.gguf
            """
        },
        {
            "service-prod.yaml",
            """
            service:
              readiness_probe: /health
              replica_policy:
                min_replicas: 3      # Hetzner base
                max_replicas: 20     # Including burst
                target_qps_per_replica: 5.0
                upscale_delay_seconds: 30
                downscale_delay_seconds: 300

            resources:
              ports: 8080
              cpus: 16+
              memory: 256+
            """
        },
        {
            "service-spot.yaml",
            """
            resources:
              use_spot: true
              spot_recovery: EAGER_NEXT_REGION

            replica_policy:
              min_replicas: 0       # Scale to zero
              max_replicas: 50
              target_qps_per_replica: 3.0
            """
        },
    };

    private static readonly ServicePlanContext BigMachine = new() { Machine = new MachineShape(64, 1024), DefaultModelPath = "/models/default.gguf" };

    [Theory]
    [MemberData(nameof(DesignYamls))]
    public void DeployFile_IsTheDesignsYamlAsWritten(string file, string design)
    {
        var lines = File.ReadAllLines(DeployFile(file)).Where(l => !l.StartsWith('#'));

        Assert.Equal(design.Trim(), string.Join('\n', lines).Trim());
    }

    [Fact]
    public void ParseFile_ServiceDev_OneReplicaRunningWfReplicaWithTheDesignsArguments()
    {
        var path = DeployFile("service-dev.yaml");
        var plan = ServicePlan.Parse(File.ReadAllText(path), path, BigMachine);

        Assert.Equal("service-dev", plan.Name);
        Assert.Equal((1, 1), (plan.MinReplicas, plan.MaxReplicas));
        Assert.Equal("/health", plan.Spec.Service.ReadinessProbe.Path);
        Assert.Equal(["wf", "replica", "--backend", "bitnet", "--model", "/models/dev.gguf"], plan.Replica.Argv);
        Assert.Equal("8", plan.Replica.Envs["NUM_THREADS"]);
        Assert.False(plan.Replica.Envs.ContainsKey("MODEL_PATH"));
        var tier = Assert.Single(plan.Tiers);
        Assert.Equal(("local", 8), (tier.Name, tier.Capacity)); // 64 cores / 8, 1024 GiB / 64
    }

    [Fact]
    public void ParseFile_ServiceProd_DesignPolicyOnTheLocalTier()
    {
        var path = DeployFile("service-prod.yaml");
        var plan = ServicePlan.Parse(File.ReadAllText(path), path, BigMachine);

        var policy = plan.Spec.Service.ReplicaPolicy;
        Assert.Equal((3, 20, 5.0, 30, 300), (policy.MinReplicas, policy.MaxReplicas, policy.TargetQpsPerReplica, policy.UpscaleDelaySeconds, policy.DownscaleDelaySeconds));
        Assert.Equal("/health", plan.Spec.Service.ReadinessProbe.Path);
        Assert.Equal(["wf", "replica"], plan.Replica.Argv);
        Assert.Equal("/models/default.gguf", plan.Replica.Envs["MODEL_PATH"]);
        Assert.Equal("16", plan.Replica.Envs["NUM_THREADS"]);
        Assert.Equal(8080, plan.Replica.PortHint);
        Assert.Equal(("local", 4), (plan.Tiers.Single().Name, plan.Tiers.Single().Capacity)); // 64 / 16 cores, 1024 / 256 GiB
        Assert.Empty(plan.Warnings);
    }

    [Fact]
    public void ParseFile_ServiceSpot_ScalesToZeroAndNeedsForceWithoutASpotTier()
    {
        var path = DeployFile("service-spot.yaml");
        var yaml = File.ReadAllText(path);

        var error = Assert.Throws<ServiceSpecException>(() => ServicePlan.Parse(yaml, path, BigMachine));
        var plan = ServicePlan.Parse(yaml, path, BigMachine with { Force = true });

        Assert.Equal("resources.use_spot", error.KeyPath);
        Assert.Contains("no tier that can take replicas here is spot ('local')", error.Message, StringComparison.Ordinal);
        var policy = plan.Spec.Service.ReplicaPolicy;
        Assert.Equal((0, 50, 3.0), (policy.MinReplicas, policy.MaxReplicas, policy.TargetQpsPerReplica));
        Assert.Equal("EAGER_NEXT_REGION", plan.Spec.Resources.JobRecovery?.Strategy);
        Assert.StartsWith("EAGER_NEXT_REGION", plan.Recovery, StringComparison.Ordinal);
        Assert.Contains("the first request starts one", plan.Autoscaling, StringComparison.Ordinal);
        Assert.Equal(TierSpec.UnlimitedCapacity, plan.Tiers.Single().Capacity);
        Assert.Contains(plan.Warnings, w => w.StartsWith("resources.use_spot: ", StringComparison.Ordinal) && w.EndsWith("(--force)", StringComparison.Ordinal));
    }

    [Fact]
    public void ParseFile_ServiceHybrid_RefusedNamingEachTierAndProviderUntilIssues13To15()
    {
        var path = DeployFile("service-hybrid.yaml");
        var yaml = File.ReadAllText(path);
        var spec = ServiceSpecParser.Parse(yaml, path);

        var error = Assert.Throws<ServiceSpecException>(() => ServicePlan.Parse(yaml, path, BigMachine));
        var forced = Assert.Throws<ServiceSpecException>(() => ServicePlan.Parse(yaml, path, BigMachine with { Force = true }));

        Assert.Equal("tiers[0].provider", error.KeyPath);
        Assert.True(error.Line > 0, error.Message);
        foreach (var (tier, provider, issue) in new[] { ("hetzner", "ssh", 13), ("ovh-k8s", "kubernetes", 14), ("cloud-spot", "cloud", 15) })
            Assert.Contains($"tier '{tier}': provider {provider} cannot launch replicas yet (issue {issue})", error.Message, StringComparison.Ordinal);
        Assert.Equal("tiers", forced.KeyPath);
        Assert.Contains("so no replica can ever start", forced.Message, StringComparison.Ordinal);
        Assert.Equal([TierProvider.Ssh, TierProvider.Kubernetes, TierProvider.Cloud], spec.Tiers.Select(t => t.Provider));
        Assert.Equal((3, 20), (spec.Service.ReplicaPolicy.MinReplicas, spec.Service.ReplicaPolicy.MaxReplicas));
        Assert.Null(spec.Run);
    }

    [Theory]
    [InlineData("service-dev.yaml")]
    [InlineData("service-prod.yaml")]
    [InlineData("service-spot.yaml")]
    [InlineData("service-hybrid.yaml")]
    public void ToYaml_ShippedSpec_RoundTripsToAnEqualSpec(string file)
    {
        var spec = ServiceSpecParser.ParseFile(DeployFile(file));

        var yaml = spec.ToYaml();
        var again = ServiceSpecParser.Parse(yaml, file);

        Assert.DoesNotContain("\n...", yaml, StringComparison.Ordinal);
        Assert.Equal(spec, again);
        Assert.Equal(spec.ToYaml(), again.ToYaml());
    }

    private static string DeployFile(string name) => Path.Combine(RepositoryPaths.Root, "deploy", name);
}
