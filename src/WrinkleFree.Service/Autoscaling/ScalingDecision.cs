namespace WrinkleFree.Service.Autoscaling;

/// <summary>One autoscaler decision.</summary>
/// <param name="TargetReplicas">Live replicas wanted, overprovision included, within [min, max].</param>
/// <param name="Qps">The request rate the decision saw, over the policy's window.</param>
/// <param name="Reason">What set or held the target.</param>
public readonly record struct ScalingDecision(int TargetReplicas, double Qps, ScalingReason Reason);
