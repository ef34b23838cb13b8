using System.Globalization;

namespace WrinkleFree.Service.Spec;

public sealed partial record ServicePlan
{
    private static string DescribeAutoscaling(ServiceSection service)
    {
        var p = service.ReplicaPolicy;
        if (p.TargetQpsPerReplica is not { } target)
        {
            return $"fixed at {Replicas(p.MinReplicas)}; no autoscaling (replica_policy has no target_qps_per_replica)";
        }

        var parts = new List<string>
        {
            Invariant($"between {p.MinReplicas} and {p.EffectiveMaxReplicas} replicas at {target:0.##} QPS per replica (measured over {p.QpsWindowSeconds} s)")
                + (p.NumOverprovision > 0 ? Invariant($" plus {p.NumOverprovision} spare") : ""),
            Invariant($"adds replicas after {p.UpscaleDelaySeconds} s above target, removes them after {p.DownscaleDelaySeconds} s below"),
            Invariant($"also adds one while the replicas' TTFT p50 is over {p.TtftP50ThresholdMs} ms, and at once when a queue is deeper than {p.QueueDepthEmergency}"),
            "new replicas go to the cheapest tier with room, and the dearest tier's leave first",
        };
        if (p.MinReplicas == 0)
        {
            parts.Add(Invariant($"at zero replicas (when idle) the first request starts one and waits up to {service.LoadBalancer.ScaleFromZeroWaitSeconds} s for it"));
        }

        return string.Join("; ", parts);
    }

    // Each tier is one pool (one region) here, so both of SkyPilot's strategies come to the same: replace at once.
    private static string DescribeRecovery(JobRecoverySpec? recovery) =>
        (recovery?.Strategy is { } strategy ? $"{strategy} (job_recovery): " : "")
        + "a replica that exits, fails its probes or is preempted is replaced at once, on the cheapest tier with room";

    private static string DescribeProbe(ReadinessProbeSpec probe) => string.Join("; ",
        Invariant($"{(probe.PostData is null ? "GET" : "POST")} {probe.Path} every {probe.EndpointProbeIntervalSeconds} s (timeout {probe.TimeoutSeconds} s)"),
        Invariant($"ready when it answers 200 within {probe.LatencyThresholdMs} ms"),
        Invariant($"a new replica has {probe.InitialDelaySeconds} s to become ready, a ready one that fails for {probe.ConsecutiveFailureThresholdTimeoutSeconds} s is replaced"));

    private static string Replicas(int count) => count == 1 ? "1 replica" : Invariant($"{count} replicas");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
