using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Tests.Spec;

public sealed class ShippedSpecTests
{
    private static readonly string[] ReplicaEnvs = ["BACKEND", "MODEL_PATH", "CONTEXT_SIZE", "NUM_THREADS", "MLOCK"];

    [Fact]
    public void ParseFile_ServiceDev_OneLocalReplicaRunningWfReplica()
    {
        var spec = ServiceSpecParser.ParseFile(DeployFile("service-dev.yaml"));

        Assert.Equal("wrinklefree-dev", spec.Name);
        Assert.Equal(1, spec.Service.ReplicaPolicy.MinReplicas);
        Assert.Equal(1, spec.Service.ReplicaPolicy.EffectiveMaxReplicas);
        Assert.Equal("/health", spec.Service.ReadinessProbe.Path);
        Assert.Equal("8+", spec.Resources.Cpus);
        Assert.Equal("64+", spec.Resources.Memory);
        Assert.Equal("bitnet", spec.Envs["BACKEND"]);
        var tier = Assert.Single(spec.Tiers);
        Assert.Equal(TierProvider.Local, tier.Provider);
        Assert.Equal(1, tier.Capacity);
        Assert.Equal(0, tier.CostPerHour);
        AssertRunsWfReplica(spec);
    }

    [Fact]
    public void ParseFile_ServiceProd_HybridTiersAndDesignPolicy()
    {
        var spec = ServiceSpecParser.ParseFile(DeployFile("service-prod.yaml"));

        var policy = spec.Service.ReplicaPolicy;
        Assert.Equal(3, policy.MinReplicas);
        Assert.Equal(20, policy.MaxReplicas);
        Assert.Equal(5.0, policy.TargetQpsPerReplica);
        Assert.Equal(30, policy.UpscaleDelaySeconds);
        Assert.Equal(300, policy.DownscaleDelaySeconds);
        Assert.Equal(500, policy.TtftP50ThresholdMs);
        Assert.Equal(100, policy.QueueDepthEmergency);
        Assert.Equal(200, spec.Service.ReadinessProbe.LatencyThresholdMs);
        Assert.Equal(8080, spec.Service.Ports);
        Assert.Equal([PortRange.Single(8080)], spec.Resources.Ports);
        Assert.Equal("16+", spec.Resources.Cpus);
        Assert.Equal("256+", spec.Resources.Memory);

        Assert.Collection(
            spec.Tiers,
            ssh =>
            {
                Assert.Equal((TierProvider.Ssh, 3, 0.0, false), (ssh.Provider, ssh.Capacity, ssh.CostPerHour, ssh.Spot));
                Assert.Equal("hetzner-base", ssh.Settings["pool"]);
            },
            k8s => Assert.Equal((TierProvider.Kubernetes, 10, 0.08, false), (k8s.Provider, k8s.Capacity, k8s.CostPerHour, k8s.Spot)),
            cloud =>
            {
                Assert.Equal((TierProvider.Cloud, 0.15, true, true), (cloud.Provider, cloud.CostPerHour, cloud.Spot, cloud.ScaleToZero));
                Assert.True(cloud.IsUnlimited);
            });
        AssertRunsWfReplica(spec);
    }

    [Fact]
    public void ParseFile_ServiceSpot_ScalesToZeroOnSpot()
    {
        var spec = ServiceSpecParser.ParseFile(DeployFile("service-spot.yaml"));

        var policy = spec.Service.ReplicaPolicy;
        Assert.Equal(0, policy.MinReplicas);
        Assert.Equal(50, policy.MaxReplicas);
        Assert.Equal(3.0, policy.TargetQpsPerReplica);
        Assert.True(spec.Resources.UseSpot);
        Assert.Equal("EAGER_NEXT_REGION", spec.Resources.JobRecovery?.Strategy);
        Assert.Equal(300, spec.Service.LoadBalancer.ScaleFromZeroWaitSeconds);
        var tier = Assert.Single(spec.Tiers);
        Assert.Equal((TierProvider.Cloud, true, true), (tier.Provider, tier.Spot, tier.ScaleToZero));
        Assert.True(tier.IsUnlimited);
        AssertRunsWfReplica(spec);
    }

    [Theory]
    [InlineData("service-dev.yaml")]
    [InlineData("service-prod.yaml")]
    [InlineData("service-spot.yaml")]
    public void ToYaml_ShippedSpec_RoundTripsToAnEqualSpec(string file)
    {
        var spec = ServiceSpecParser.ParseFile(DeployFile(file));

        var yaml = spec.ToYaml();
        var again = ServiceSpecParser.Parse(yaml, file);

        Assert.DoesNotContain("\n...", yaml, StringComparison.Ordinal);
        Assert.Equal(spec, again);
        Assert.Equal(spec.ToYaml(), again.ToYaml());
    }

    private static void AssertRunsWfReplica(ServiceSpec spec)
    {
        Assert.NotNull(spec.Run);
        Assert.StartsWith("wf replica", spec.Run, StringComparison.Ordinal);
        foreach (var name in ReplicaEnvs)
        {
            Assert.True(spec.Envs.ContainsKey(name), $"envs lacks {name}");
        }

        foreach (var name in new[] { "BACKEND", "MODEL_PATH", "CONTEXT_SIZE", "NUM_THREADS", "HOST", "PORT" })
        {
            Assert.Contains("$" + (name is "HOST" or "PORT" ? "{" + name : name), spec.Run, StringComparison.Ordinal);
        }
    }

    /// <summary>deploy/ of the checkout this test was built from: the folder holding WrinkleFree.slnx, found upward.</summary>
    private static string DeployFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WrinkleFree.slnx")))
            {
                return Path.Combine(dir.FullName, "deploy", name);
            }
        }

        throw new InvalidOperationException($"no WrinkleFree.slnx above {AppContext.BaseDirectory}");
    }
}
