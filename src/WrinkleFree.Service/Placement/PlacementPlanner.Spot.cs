namespace WrinkleFree.Service.Placement;

public sealed partial class PlacementPlanner
{
    private static readonly IReadOnlySet<string> NoTiers = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// Splits the target between spot and non-spot tiers. The layout is the cost order itself (cheapest tiers with room
    /// first, the base on-demand replicas on the cheapest non-spot tiers before anything else), so fallback never moves
    /// a replica off a cheaper tier. Spot replicas the layout wants that are not ready (preempted, still booting, or
    /// failing to launch) beyond the overprovision spares get non-spot stand-ins when the dynamic fallback is on; this is
    /// SkyServe's od_target = base + max(0, spot_target - ready_spot), less the spares that exist to absorb such losses.
    /// </summary>
    /// <remarks>Ready spot replicas of an older version count: they serve until the update retires them, so an update
    /// brings no stand-ins while they do.</remarks>
    private Sides Split(List<Candidate> current, List<Candidate> old, int[] occupied, bool[]? blocked, int target)
    {
        var left = new long[_tiers.Length];
        for (var t = 0; t < _tiers.Length; t++)
        {
            long cap = _tiers[t].Capacity ?? int.MaxValue;
            // A tier out of capacity keeps what it runs and takes nothing new.
            left[t] = blocked is not null && blocked[t] ? Math.Min(cap, occupied[t]) : cap;
        }
        long onDemand = 0;
        long spot = 0;
        var baseOnDemand = Math.Min(_spot.BaseOnDemandReplicas, target);
        foreach (var t in _byCost)
        {
            if (_tiers[t].Spot)
                continue;
            var take = Math.Min(left[t], baseOnDemand - onDemand);
            left[t] -= take;
            onDemand += take;
        }
        var rest = target - onDemand;
        foreach (var t in _byCost)
        {
            var take = Math.Min(left[t], rest);
            rest -= take;
            if (_tiers[t].Spot)
                spot += take;
            else
                onDemand += take;
        }

        var readySpot = 0;
        foreach (var list in (ReadOnlySpan<List<Candidate>>)[current, old])
        {
            foreach (var c in list)
            {
                if (c.Ready && c.Tier >= 0 && _tiers[c.Tier].Spot)
                    readySpot++;
            }
        }
        var spares = Math.Min(_spot.Overprovision, spot);
        var standIns = _spot.DynamicOnDemandFallback ? (int)Math.Max(0, spot - spares - readySpot) : 0;
        return new Sides((int)spot, (int)onDemand, standIns);
    }

    /// <summary>
    /// Launches and removes toward the split: spot launches first (they replace what was lost), then non-spot ones
    /// (base, spill and stand-ins), within <paramref name="room"/>. Spot zones are one pool (launches spread over
    /// equal-cost zones); non-spot tiers follow the cost order tier by tier, so a replica left on an expensive tier after a
    /// cheaper one lost one is moved back. Removals go most expensive first, across both sides, and never take more ready
    /// replicas than <paramref name="readySurplus"/>: a stand-in leaves only once the spot replica it covered for is ready.
    /// Nor do they take the live count below <paramref name="target"/>: a replica on the wrong side or tier goes once its
    /// replacement is live (a migration), never in the same step.
    /// </summary>
    private void PlanSides(List<Candidate> current, Sides sides, int[] occupied, bool[]? blocked, int room, int readySurplus,
        int target, List<string> launch, List<int> terminate)
    {
        var spot = new List<Candidate>();
        var stray = new List<Candidate>();
        var byTier = new List<Candidate>?[_tiers.Length];
        foreach (var c in current)
        {
            if (c.Tier < 0)
                stray.Add(c);
            else if (_tiers[c.Tier].Spot)
                spot.Add(c);
            else
                (byTier[c.Tier] ??= []).Add(c);
        }

        // Where the non-spot share goes: the cheapest non-spot tiers with room, as a launch from nothing would put it.
        var wanted = new int[_tiers.Length];
        long left = sides.OnDemand + sides.StandIns;
        foreach (var t in _byCost)
        {
            if (_tiers[t].Spot || left == 0)
                continue;
            long cap = _tiers[t].Capacity ?? int.MaxValue;
            var take = (int)Math.Min(left, blocked is not null && blocked[t] ? Math.Min(cap, byTier[t]?.Count ?? 0) : cap);
            wanted[t] = take;
            left -= take;
        }

        room = LaunchOn(true, sides.Spot - spot.Count, occupied, blocked, room, launch);
        var onDemandShort = sides.OnDemand + sides.StandIns;
        foreach (var t in _byCost)
        {
            onDemandShort -= byTier[t]?.Count ?? 0;
            for (var n = wanted[t] - (byTier[t]?.Count ?? 0); n > 0 && room > 0 && HasRoom(t, occupied, blocked); n--, room--)
            {
                occupied[t]++;
                launch.Add(_tiers[t].Name);
                onDemandShort--;
            }
        }
        // A tier the layout counted on may still hold draining replicas: what did not fit goes to the next cheapest.
        LaunchOn(false, onDemandShort, occupied, blocked, room, launch);

        // Replicas on tiers no longer in the spec go first, as soon as the others can carry the load without them.
        var removable = current.Count - target;
        var before = terminate.Count;
        if (stray.Count > 0 && removable > 0)
        {
            readySurplus -= ScaleDown(stray, Math.Min(stray.Count, removable), readySurplus, terminate);
            removable -= terminate.Count - before;
        }
        var groups = new List<(double Cost, List<Candidate> List, int Wanted)>();
        if (spot.Count > sides.Spot)
            groups.Add((MostExpensive(spot), spot, sides.Spot));
        for (var t = 0; t < _tiers.Length; t++)
        {
            if (byTier[t] is { } list && list.Count > wanted[t])
                groups.Add((_tiers[t].CostPerHour, list, wanted[t]));
        }
        groups.Sort(static (a, b) => b.Cost.CompareTo(a.Cost));
        foreach (var (_, list, want) in groups)
        {
            if (removable <= 0)
                return;
            before = terminate.Count;
            readySurplus -= ScaleDown(list, Math.Min(list.Count - want, removable), Math.Min(readySurplus, CountReady(list) - want), terminate);
            removable -= terminate.Count - before;
        }
    }

    /// <summary>Launches up to <paramref name="count"/> replicas on the cheapest free tiers of one side; returns the room left.</summary>
    private int LaunchOn(bool spot, int count, int[] occupied, bool[]? blocked, int room, List<string> launch)
    {
        for (; count > 0 && room > 0; count--)
        {
            var tier = CheapestFree(occupied, double.PositiveInfinity, blocked, spot);
            if (tier < 0)
                break;
            occupied[tier]++;
            launch.Add(_tiers[tier].Name);
            room--;
        }
        return room;
    }

    private static double MostExpensive(List<Candidate> list)
    {
        var max = double.NegativeInfinity;
        foreach (var c in list)
            max = Math.Max(max, c.Cost);
        return max;
    }

    /// <summary>A target's split: replicas the cost order puts on spot and non-spot tiers, and non-spot stand-ins on top.</summary>
    private readonly record struct Sides(int Spot, int OnDemand, int StandIns);
}
