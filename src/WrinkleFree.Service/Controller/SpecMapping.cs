using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Service.Placement;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Controller;

/// <summary>Maps a validated <see cref="ServiceSpec"/> onto the settings records of the controller's parts.</summary>
internal static class SpecMapping
{
    public static AutoscalerPolicy ToAutoscalerPolicy(ServiceSpec spec, TimeSpan tick)
    {
        var p = spec.Service.ReplicaPolicy;
        return new AutoscalerPolicy
        {
            MinReplicas = p.MinReplicas,
            MaxReplicas = Math.Max(1, p.EffectiveMaxReplicas),
            TargetQpsPerReplica = p.TargetQpsPerReplica,
            UpscaleDelay = TimeSpan.FromSeconds(p.UpscaleDelaySeconds),
            DownscaleDelay = TimeSpan.FromSeconds(p.DownscaleDelaySeconds),
            NumOverprovision = p.NumOverprovision,
            TtftThreshold = TimeSpan.FromMilliseconds(p.TtftP50ThresholdMs),
            EmergencyQueueDepth = p.QueueDepthEmergency,
            QpsWindow = TimeSpan.FromSeconds(p.QpsWindowSeconds),
            // The loop decides once per tick, so the hysteresis thresholds (delay / interval) count ticks.
            DecisionInterval = tick,
            ZeroReplicaDecisionInterval = tick,
        }.Validate();
    }

    /// <summary>The tiers with the capacities <see cref="ServicePlan"/> gives them (providers, use_spot, resources fitted to the machine).</summary>
    /// <param name="available">Whether a tier's provider exists here; a tier without one gets capacity 0, so the planner
    /// spills past it instead of failing a launch on it every tick.</param>
    /// <param name="machine">The local tiers' machine; null for this one.</param>
    /// <param name="found">The room a provider found for a tier (an SSH pool's answering nodes); null: the written capacity.</param>
    public static IReadOnlyList<TierInfo> ToTiers(ServiceSpec spec, Func<TierSpec, bool>? available = null, MachineShape? machine = null, Func<TierSpec, Providers.TierCapacity?>? found = null)
    {
        var planned = ServicePlan.TierCapacities(spec, available ?? (_ => true), found ?? (_ => null), machine ?? MachineShape.Current);
        return [.. spec.Tiers.Select((t, i) => new TierInfo
        {
            Name = t.Name,
            Capacity = planned[i].Capacity == TierSpec.UnlimitedCapacity ? null : planned[i].Capacity,
            CostPerHour = t.CostPerHour,
            Spot = t.Spot,
            ScaleToZero = t.ScaleToZero,
            CapacityLimited = t.Spot || ProviderName(t) == Providers.ProviderNames.Cloud,
            Order = i,
        }.Validate())];
    }

    public static PlacementPlanner ToPlanner(ServiceSpec spec, Func<TierSpec, bool>? available = null, MachineShape? machine = null, Func<TierSpec, Providers.TierCapacity?>? found = null) =>
        new(ToTiers(spec, available, machine, found), Math.Max(1, spec.Service.ReplicaPolicy.EffectiveMaxReplicas), ToSpotPolicy(spec));

    public static SpotPolicy ToSpotPolicy(ServiceSpec spec)
    {
        var p = spec.Service.ReplicaPolicy;
        return new SpotPolicy
        {
            BaseOnDemandReplicas = p.BaseOndemandFallbackReplicas ?? 0,
            DynamicOnDemandFallback = p.DynamicOndemandFallback ?? false,
            Overprovision = p.NumOverprovision,
        }.Validate();
    }

    public static ProbePolicy ToProbePolicy(ServiceSpec spec)
    {
        var probe = spec.Service.ReadinessProbe;
        return new ProbePolicy
        {
            InitialDelay = TimeSpan.FromSeconds(probe.InitialDelaySeconds),
            ConsecutiveFailureTimeout = TimeSpan.FromSeconds(probe.ConsecutiveFailureThresholdTimeoutSeconds),
            LatencyThreshold = TimeSpan.FromMilliseconds(probe.LatencyThresholdMs),
        }.Validate();
    }

    public static ServiceLoadBalancerOptions ToBalancerOptions(ServiceSpec spec, string service, string address, int port, Tls.ReplicaClientTlsFiles? replicaTls = null) => new()
    {
        ServiceName = service,
        ListenAddress = spec.Service.LoadBalancer.Host ?? address,
        Port = spec.Service.LoadBalancer.Port ?? port,
        Policy = BalancingPolicyName(spec),
        StreamTimeout = TimeSpan.FromSeconds(spec.Service.LoadBalancer.StreamTimeoutSeconds),
        ScaleFromZeroWait = TimeSpan.FromSeconds(spec.Service.LoadBalancer.ScaleFromZeroWaitSeconds),
        TlsCertFile = spec.Service.Tls?.Certfile,
        TlsKeyFile = spec.Service.Tls?.Keyfile,
        ReplicaTls = replicaTls,
    };

    public static string BalancingPolicyName(ServiceSpec spec) => spec.Service.LoadBalancingPolicy switch
    {
        LoadBalancingPolicy.RoundRobin => LoadBalancingPolicyNames.RoundRobin,
        LoadBalancingPolicy.PowerOfTwo => LoadBalancingPolicyNames.PowerOfTwo,
        LoadBalancingPolicy.PrefixAffinity => LoadBalancingPolicyNames.PrefixAffinity,
        _ => LoadBalancingPolicyNames.LeastRequests,
    };

    public static string ProviderName(TierSpec tier) => ServicePlan.ProviderName(tier);

    /// <summary>
    /// True when replicas of <paramref name="before"/> cannot serve <paramref name="after"/>: what runs on the replica
    /// changed. Policy, probe, balancer and tier changes apply to the running replicas without a rolling restart.
    /// </summary>
    public static bool NeedsNewReplicas(ServiceSpec before, ServiceSpec after) =>
        before.Run != after.Run || before.Setup != after.Setup || before.Workdir != after.Workdir
        || before.Resources != after.Resources || before.Service.ReplicaTls != after.Service.ReplicaTls
        || !SpecEquality.Maps(before.Envs, after.Envs)
        || !SpecEquality.Maps(before.FileMounts, after.FileMounts);
}
