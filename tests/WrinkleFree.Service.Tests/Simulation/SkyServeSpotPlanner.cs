using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Placement;

namespace WrinkleFree.Service.Tests.Simulation;

/// <summary>
/// <see cref="NaiveSkyServePlanner"/> with SkyServe's own spot behaviour: spot_target = final - base_od replicas on spot,
/// od_target = base_od + (dynamic ? max(0, spot_target - ready_spot) : 0) on on-demand (non-spot) tiers in declared order,
/// and its spot placer's zone choice: zones where a replica was preempted (or failed to provision) are avoided until one of
/// their replicas becomes ready again, or until every zone is in that state. Cost-unaware throughout: victims by status,
/// then older version, then newest id, on each side. It honours max_replicas and tier capacity as ours does.
/// </summary>
internal sealed class SkyServeSpotPlanner(IReadOnlyList<TierInfo> tiers, int maxReplicas, int baseOnDemand, bool dynamicFallback) : IPlacementPlanner
{
    private readonly HashSet<string> _preemptive = new(StringComparer.Ordinal);
    private readonly HashSet<int> _seenReady = [];
    private readonly Dictionary<string, TierInfo> _byName = tiers.ToDictionary(t => t.Name, StringComparer.Ordinal);

    public PlacementPlan Plan(IReadOnlyList<ReplicaInfo> replicas, int targetReplicas, int targetVersion)
    {
        var occupied = new Dictionary<string, int>(StringComparer.Ordinal);
        var terminate = new List<int>();
        var spot = new List<ReplicaInfo>();
        var onDemand = new List<ReplicaInfo>();
        var seen = new HashSet<int>();
        foreach (var r in replicas)
        {
            var isSpot = _byName.TryGetValue(r.Tier, out var tier) && tier.Spot;
            if (r.Status.IsTerminal())
            {
                if (isSpot && r.Status is ReplicaStatus.Preempted or ReplicaStatus.FailedProvision)
                    _preemptive.Add(r.Tier);
                terminate.Add(r.Id);
                continue;
            }
            if (r.Status.IsReady())
            {
                seen.Add(r.Id);
                if (_seenReady.Add(r.Id) && isSpot)
                    _preemptive.Remove(r.Tier);
            }
            occupied[r.Tier] = occupied.GetValueOrDefault(r.Tier) + 1;
            if (r.Status.CountsTowardMax())
                (isSpot ? spot : onDemand).Add(r);
        }
        _seenReady.IntersectWith(seen);

        var final = Math.Min(targetReplicas, maxReplicas);
        var spotTarget = Math.Max(0, final - baseOnDemand);
        var readySpot = spot.Count(r => r.Status.IsReady());
        var onDemandTarget = Math.Min(final, baseOnDemand) + (dynamicFallback ? Math.Max(0, spotTarget - readySpot) : 0);

        var launch = new List<string>();
        var room = maxReplicas - spot.Count - onDemand.Count;
        for (var n = spotTarget - spot.Count; n > 0 && room > 0; n--, room--)
        {
            var zone = SpotZone(occupied);
            if (zone is null)
                break;
            occupied[zone.Name] = occupied.GetValueOrDefault(zone.Name) + 1;
            launch.Add(zone.Name);
        }
        for (var n = onDemandTarget - onDemand.Count; n > 0 && room > 0; n--, room--)
        {
            var tier = tiers.FirstOrDefault(t => !t.Spot && HasRoom(t, occupied));
            if (tier is null)
                break;
            occupied[tier.Name] = occupied.GetValueOrDefault(tier.Name) + 1;
            launch.Add(tier.Name);
        }

        terminate.AddRange(Victims(spot, spot.Count - spotTarget));
        terminate.AddRange(Victims(onDemand, onDemand.Count - onDemandTarget));
        return new PlacementPlan(launch, terminate, targetVersion);
    }

    /// <summary>The active zone with the fewest replicas (declared order on ties); all zones again once none is active.</summary>
    private TierInfo? SpotZone(Dictionary<string, int> occupied)
    {
        var zones = tiers.Where(t => t.Spot && HasRoom(t, occupied)).ToList();
        if (zones.Count == 0)
            return null;
        var active = zones.Where(t => !_preemptive.Contains(t.Name)).ToList();
        if (active.Count == 0)
        {
            _preemptive.Clear();
            active = zones;
        }
        return active.MinBy(t => occupied.GetValueOrDefault(t.Name));
    }

    private static bool HasRoom(TierInfo t, Dictionary<string, int> occupied) =>
        t.Capacity is not { } cap || occupied.GetValueOrDefault(t.Name) < cap;

    private static IEnumerable<int> Victims(List<ReplicaInfo> side, int excess)
    {
        if (excess <= 0)
            return [];
        side.Sort(NaiveSkyServePlanner.VictimOrder);
        return side.Take(excess).Select(r => r.Id);
    }
}
