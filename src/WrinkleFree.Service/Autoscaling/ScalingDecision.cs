namespace WrinkleFree.Service.Autoscaling;

/// <summary>One autoscaler decision.</summary>
/// <param name="TargetReplicas">Live replicas wanted, overprovision included, within [min, max].</param>
/// <param name="Qps">The request rate the decision saw, over the policy's window.</param>
/// <param name="Reason">What set or held the target.</param>
public readonly record struct ScalingDecision(int TargetReplicas, double Qps, ScalingReason Reason)
{
    /// <summary>The numbers the decision saw, for explaining it (events, logs); they never change the decision.</summary>
    public ScalingSignals? Signals { get; init; }

    /// <summary>The reason in one phrase with its numbers, e.g. "QPS 12.3 > 2 replicas × 5.0".</summary>
    public string Describe() => Signals?.Describe(Reason) ?? Reason.ToString();
}
