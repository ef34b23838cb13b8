using WrinkleFree.Service.Controller;

namespace WrinkleFree.Service.Status;

/// <summary>One point of a service's charts: its load, latency and cost at <paramref name="At"/>.</summary>
/// <param name="At">When the controller snapshot was sampled.</param>
/// <param name="Qps">Requests per second over the autoscaler's window.</param>
/// <param name="TtftP50Ms">Median of the ready replicas' median time to first token, null when none reported one.</param>
/// <param name="CostPerHour">Dollars per hour of the replicas holding capacity.</param>
/// <param name="ReadyReplicas">Replicas READY.</param>
/// <param name="TargetReplicas">The autoscaler's target.</param>
public readonly record struct HistorySample(DateTimeOffset At, double Qps, double? TtftP50Ms, double CostPerHour, int ReadyReplicas, int TargetReplicas)
{
    /// <summary>The sample of <paramref name="snapshot"/> taken at <paramref name="at"/>.</summary>
    public static HistorySample Of(ServiceSnapshot snapshot, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return new HistorySample(at, Math.Round(snapshot.Qps, 3), MedianTtftMs(snapshot.Replicas), Math.Round(snapshot.CostPerHour, 4), snapshot.ReadyCount, snapshot.TargetReplicas);
    }

    /// <summary>The lower median over ready replicas, as the autoscaler reads its latency signal.</summary>
    internal static double? MedianTtftMs(IReadOnlyList<ReplicaSnapshot> replicas)
    {
        var values = replicas.Where(r => r.Status == ReplicaStatus.Ready && r.TtftP50 is not null)
            .Select(r => r.TtftP50!.Value.TotalMilliseconds).Order().ToList();
        return values.Count == 0 ? null : Math.Round(values[(values.Count - 1) / 2], 1);
    }
}
