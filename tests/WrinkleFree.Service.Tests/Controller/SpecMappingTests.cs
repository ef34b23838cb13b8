using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Tests.Controller;

public sealed class SpecMappingTests
{
    private static ServiceSpec Parse(string yaml) => ServiceSpecParser.Parse(yaml);

    private const string TwoTiers = """
        service:
          readiness_probe: /health
          replica_policy:
            min_replicas: 1
            max_replicas: 4
            target_qps_per_replica: 2.5
            upscale_delay_seconds: 30
        run: echo
        tiers:
          - name: metal
            provider: ssh
            capacity: 2
            cost_per_hour: 0
          - name: cloud
            provider: local
            cost_per_hour: 0.5
        """;

    [Fact]
    public void ToTiers_UnlimitedAndMissingProvider_MapToNullAndZeroCapacity()
    {
        var tiers = SpecMapping.ToTiers(Parse(TwoTiers), t => t.Provider == TierProvider.Local);
        Assert.Equal(0, tiers[0].Capacity);
        Assert.Null(tiers[1].Capacity);
        Assert.Equal(0.5, tiers[1].CostPerHour);
        Assert.Equal(2, SpecMapping.ToTiers(Parse(TwoTiers))[0].Capacity);
    }

    [Fact]
    public void ToAutoscalerPolicy_ReplicaPolicy_CarriesBoundsTargetAndTick()
    {
        var policy = SpecMapping.ToAutoscalerPolicy(Parse(TwoTiers), TimeSpan.FromSeconds(10));
        Assert.Equal((1, 4, 2.5), (policy.MinReplicas, policy.MaxReplicas, policy.TargetQpsPerReplica!.Value));
        Assert.Equal(TimeSpan.FromSeconds(30), policy.UpscaleDelay);
        Assert.Equal(TimeSpan.FromSeconds(10), policy.DecisionInterval);
    }

    [Fact]
    public void NeedsNewReplicas_PolicyOrTierChange_False_RunOrEnvChange_True()
    {
        var before = Parse(TwoTiers);
        var morePolicy = before with { Service = before.Service with { ReplicaPolicy = before.Service.ReplicaPolicy with { MinReplicas = 3 } } };
        Assert.False(SpecMapping.NeedsNewReplicas(before, morePolicy));
        Assert.False(SpecMapping.NeedsNewReplicas(before, before with { Tiers = [TierSpec.DefaultLocal] }));
        Assert.True(SpecMapping.NeedsNewReplicas(before, before with { Run = "echo 2" }));
        Assert.True(SpecMapping.NeedsNewReplicas(before, before with { Envs = new Dictionary<string, string> { ["A"] = "1" } }));
    }

    [Theory]
    [InlineData("""{"status":"ok","ttft_p50_ms":250.5,"queue_depth":3}""", false, 250.5, 3)]
    [InlineData("""{"status":"overloaded","queue_depth":40}""", true, null, 40)]
    [InlineData("OK", false, null, 0)]
    public void ReadSignals_HealthBodies_ReadOverloadTtftAndQueue(string body, bool overloaded, double? ttftMs, int queue)
    {
        var (o, ttft, q) = ReplicaProber.ReadSignals(body);
        Assert.Equal(overloaded, o);
        Assert.Equal(ttftMs, ttft?.TotalMilliseconds);
        Assert.Equal(queue, q);
    }
}
