using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Placement;

namespace WrinkleFree.Service.Tests.Simulation;

/// <summary>
/// The cost-unaware reference: SkyServe-like placement that launches into tiers in declared order and removes victims by
/// status, then older version, then newest id, whatever they cost. It honors max and capacity like ours, so the
/// simulation compares only the cost ordering.
/// </summary>
internal sealed class NaiveSkyServePlanner(IReadOnlyList<TierInfo> tiers, int maxReplicas) : IPlacementPlanner
{
    /// <summary>SkyServe's scale-down order: least advanced status first, then older version, then newest id.</summary>
    public static readonly Comparison<ReplicaInfo> VictimOrder = static (a, b) =>
    {
        var c = a.Status.ScaleDownRank().CompareTo(b.Status.ScaleDownRank());
        if (c == 0) c = a.Version.CompareTo(b.Version);
        if (c == 0) c = b.Id.CompareTo(a.Id);
        return c;
    };

    public PlacementPlan Plan(IReadOnlyList<ReplicaInfo> replicas, int targetReplicas, int targetVersion)
    {
        var occupied = new Dictionary<string, int>();
        var terminate = new List<int>();
        var live = new List<ReplicaInfo>();
        foreach (var r in replicas)
        {
            if (r.Status.IsTerminal())
            {
                terminate.Add(r.Id);
                continue;
            }
            occupied[r.Tier] = occupied.GetValueOrDefault(r.Tier) + 1;
            if (r.Status.CountsTowardMax())
                live.Add(r);
        }

        var launch = new List<string>();
        var need = Math.Min(targetReplicas, maxReplicas) - live.Count;
        for (; need > 0; need--)
        {
            var tier = tiers.FirstOrDefault(t => t.Capacity is not { } cap || occupied.GetValueOrDefault(t.Name) < cap);
            if (tier is null)
                break;
            occupied[tier.Name] = occupied.GetValueOrDefault(tier.Name) + 1;
            launch.Add(tier.Name);
        }
        if (need < 0)
        {
            live.Sort(VictimOrder);
            terminate.AddRange(live.Take(-need).Select(r => r.Id));
        }
        return new PlacementPlan(launch, terminate, targetVersion);
    }
}
