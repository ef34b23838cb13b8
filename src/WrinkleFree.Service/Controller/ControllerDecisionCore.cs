using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.Placement;

namespace WrinkleFree.Service.Controller;

/// <summary>
/// The controller's decision step without I/O: from the replicas the controller knows and their health signals, ask
/// the autoscaler for a target and the planner for the launches and terminations that move toward it. The reconcile
/// loop around it carries the plan out through providers and calls it again after <see cref="ControllerDecision.NextTickIn"/>.
/// </summary>
public sealed class ControllerDecisionCore
{
    private IPlacementPlanner _planner;

    /// <summary>Combines an autoscaler with a placement planner.</summary>
    public ControllerDecisionCore(RequestRateAutoscaler autoscaler, IPlacementPlanner planner)
    {
        Autoscaler = autoscaler;
        _planner = planner;
    }

    /// <summary>The autoscaler (the load balancer records requests on it).</summary>
    public RequestRateAutoscaler Autoscaler { get; }

    /// <summary>The planner in force.</summary>
    public IPlacementPlanner Planner => _planner;

    /// <summary>Decides one tick for a service whose current version is <paramref name="targetVersion"/>.</summary>
    /// <param name="replicas">Every replica the controller tracks, failed ones included until cleaned up.</param>
    /// <param name="loads">Live replicas' latest health signals.</param>
    /// <param name="targetVersion">The version replicas should run; older ones are rolled.</param>
    public ControllerDecision Decide(IReadOnlyList<ReplicaInfo> replicas, ReadOnlySpan<ReplicaLoad> loads, int targetVersion)
    {
        var starting = 0;
        for (var i = 0; i < replicas.Count; i++)
        {
            if (replicas[i].Status is ReplicaStatus.Pending or ReplicaStatus.Provisioning or ReplicaStatus.Starting)
                starting++;
        }
        var scaling = Autoscaler.Evaluate(loads, starting);
        var plan = _planner.Plan(replicas, scaling.TargetReplicas, targetVersion);
        return new ControllerDecision(scaling, plan, Autoscaler.NextDecisionDelay);
    }

    /// <summary>A planner with new tier capacities (a provider found more or less room); the autoscaler keeps its state.</summary>
    public void ReplacePlanner(IPlacementPlanner planner) => _planner = planner;

    /// <summary>Applies an update: the new policy (counters reset) and, when tiers or max changed, a new planner.</summary>
    public ScalingDecision Update(AutoscalerPolicy policy, IPlacementPlanner? planner = null)
    {
        if (planner is not null)
            _planner = planner;
        return Autoscaler.UpdatePolicy(policy);
    }
}
