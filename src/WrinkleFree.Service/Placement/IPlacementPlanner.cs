namespace WrinkleFree.Service.Placement;

/// <summary>Turns the current replicas and a target count into launches and terminations. Pure: no I/O, no clock.</summary>
public interface IPlacementPlanner
{
    /// <summary>Plans the step from <paramref name="replicas"/> toward <paramref name="targetReplicas"/> live replicas
    /// of <paramref name="targetVersion"/>.</summary>
    PlacementPlan Plan(IReadOnlyList<ReplicaInfo> replicas, int targetReplicas, int targetVersion);

    /// <summary>As <see cref="Plan(IReadOnlyList{ReplicaInfo}, int, int)"/>, launching nothing on the tiers named in
    /// <paramref name="unavailableTiers"/> (a zone out of capacity); a planner that cannot avoid tiers ignores it.</summary>
    PlacementPlan Plan(IReadOnlyList<ReplicaInfo> replicas, int targetReplicas, int targetVersion, IReadOnlySet<string> unavailableTiers) =>
        Plan(replicas, targetReplicas, targetVersion);
}
