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
    private Sides Split(List<Candidate> current, int[] occupied, bool[]? blocked, int target)
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
        foreach (var c in current)
        {
            if (c.Ready && c.Tier >= 0 && _tiers[c.Tier].Spot)
                readySpot++;
        }
        var spares = Math.Min(_spot.Overprovision, spot);
        var standIns = _spot.DynamicOnDemandFallback ? (int)Math.Max(0, spot - spares - readySpot) : 0;
        return new Sides((int)spot, (int)onDemand, standIns);
    }

    /// <summary>
    /// Launches and removes on each side toward its share: spot launches first (they replace what was lost), then
    /// non-spot ones (base, spill and stand-ins), within <paramref name="room"/>. Removals go most expensive first on each
    /// side, the pricier side first, and never take more ready replicas than <paramref name="readySurplus"/>: a stand-in
    /// leaves only once the spot replica it covered for is ready.
    /// </summary>
    private void PlanSides(List<Candidate> current, Sides sides, int[] occupied, bool[]? blocked, int room, int readySurplus,
        List<string> launch, List<int> terminate)
    {
        var spot = new List<Candidate>();
        var onDemand = new List<Candidate>();
        var stray = new List<Candidate>();
        foreach (var c in current)
            (c.Tier < 0 ? stray : _tiers[c.Tier].Spot ? spot : onDemand).Add(c);

        room = LaunchOn(true, sides.Spot - spot.Count, occupied, blocked, room, launch);
        LaunchOn(false, sides.OnDemand + sides.StandIns - onDemand.Count, occupied, blocked, room, launch);

        // Replicas on tiers no longer in the spec go first, as soon as the others can carry the load without them.
        readySurplus -= ScaleDown(stray, stray.Count, readySurplus, terminate);
        var spotExcess = spot.Count - sides.Spot;
        var onDemandExcess = onDemand.Count - sides.OnDemand - sides.StandIns;
        var spotFirst = MostExpensiveReady(spot) >= MostExpensiveReady(onDemand);
        for (var pass = 0; pass < 2; pass++)
        {
            var (list, excess, wanted) = (pass == 0) == spotFirst
                ? (spot, spotExcess, sides.Spot)
                : (onDemand, onDemandExcess, sides.OnDemand + sides.StandIns);
            if (excess > 0)
                readySurplus -= ScaleDown(list, excess, Math.Min(readySurplus, CountReady(list) - wanted), terminate);
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

    private static double MostExpensiveReady(List<Candidate> list)
    {
        var max = double.NegativeInfinity;
        foreach (var c in list)
        {
            if (c.Ready)
                max = Math.Max(max, c.Cost);
        }
        return max;
    }

    /// <summary>A target's split: replicas the cost order puts on spot and non-spot tiers, and non-spot stand-ins on top.</summary>
    private readonly record struct Sides(int Spot, int OnDemand, int StandIns);
}
