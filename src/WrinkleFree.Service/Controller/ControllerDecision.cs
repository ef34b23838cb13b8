using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.Placement;

namespace WrinkleFree.Service.Controller;

/// <summary>One reconcile tick's decision: the autoscaler's target, the placement plan toward it, and when to tick next.</summary>
/// <param name="Scaling">The autoscaler's decision.</param>
/// <param name="Plan">Launches and terminations to carry out now.</param>
/// <param name="NextTickIn">Delay until the next decision (shorter at zero replicas).</param>
public sealed record ControllerDecision(ScalingDecision Scaling, PlacementPlan Plan, TimeSpan NextTickIn);
