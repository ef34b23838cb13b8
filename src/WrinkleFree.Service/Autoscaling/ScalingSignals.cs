using System.Globalization;

namespace WrinkleFree.Service.Autoscaling;

/// <summary>
/// What one autoscaler decision saw, so its reason can be told in numbers ("QPS 12.3 > 2 replicas × 5.0"); it does not
/// influence the decision.
/// </summary>
/// <param name="Qps">The request rate over the policy's window.</param>
/// <param name="TargetQpsPerReplica">The policy's per-replica rate, null when the service is pinned at min_replicas.</param>
/// <param name="BaseTarget">The target before the decision, overprovision excluded (what the rate was compared with).</param>
/// <param name="RateTarget">The target the request rate alone asks for, within [min, max].</param>
/// <param name="TtftP50">Ready replicas' median time to first token, null when none reported one.</param>
/// <param name="TtftThreshold">The policy's TTFT threshold.</param>
/// <param name="MaxQueueDepth">The deepest queue among the live replicas.</param>
/// <param name="EmergencyQueueDepth">The policy's emergency queue depth.</param>
public sealed record ScalingSignals(
    double Qps, double? TargetQpsPerReplica, int BaseTarget, int RateTarget, TimeSpan? TtftP50, TimeSpan TtftThreshold, int MaxQueueDepth, int EmergencyQueueDepth)
{
    /// <summary>
    /// The reason for <paramref name="reason"/> in one phrase: "QPS 12.3 > 2 replicas × 5.0", "TTFT p50 812 ms > 500 ms",
    /// "queue depth 140 > 100".
    /// </summary>
    public string Describe(ScalingReason reason) => reason switch
    {
        ScalingReason.RequestRate when TargetQpsPerReplica is { } per => RateTarget > BaseTarget
            ? Text($"QPS {Qps:0.0} > {Replicas(BaseTarget)} × {per:0.0}")
            : Text($"QPS {Qps:0.0} ≤ {Replicas(RateTarget)} × {per:0.0}"),
        ScalingReason.RequestRate => Text($"min_replicas {RateTarget}"),
        ScalingReason.ScaleFromZero => Text($"requests at zero replicas (QPS {Qps:0.0})"),
        ScalingReason.Latency => Text($"TTFT p50 {Ms(TtftP50 ?? TimeSpan.Zero)} ms > {Ms(TtftThreshold)} ms"),
        ScalingReason.Emergency => Text($"queue depth {MaxQueueDepth} > {EmergencyQueueDepth}"),
        ScalingReason.PolicyChanged => "replica policy changed",
        _ => Text($"holding at QPS {Qps:0.0}"),
    };

    private static string Replicas(int n) => n == 1 ? "1 replica" : Text($"{n} replicas");

    private static string Ms(TimeSpan t) => Math.Round(t.TotalMilliseconds).ToString("0", CultureInfo.InvariantCulture);

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
