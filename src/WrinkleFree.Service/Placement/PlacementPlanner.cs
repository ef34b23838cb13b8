using System.Runtime.InteropServices;
using WrinkleFree.Service.Controller;

namespace WrinkleFree.Service.Placement;

/// <summary>
/// Cost-ordered placement: launches go to the cheapest tier with free capacity (ties: declared order), scale-down removes
/// replicas that serve nothing first and then the most expensive tier's newest, failed and preempted replicas are
/// cleaned up and replaced, scale-to-zero tiers drain into cheaper tiers when those have room, and a new version rolls
/// out without a moment with no ready replica. max_replicas counts every live replica. With a <see cref="SpotPolicy"/>
/// that asks for on-demand fallback, spot and non-spot tiers are planned as two sides (see PlacementPlanner.Spot.cs).
/// </summary>
public sealed partial class PlacementPlanner : IPlacementPlanner
{
    private readonly TierInfo[] _tiers;
    private readonly Dictionary<string, int> _tierIndex;
    private readonly int[] _byCost;
    private readonly int _maxReplicas;
    private readonly SpotPolicy _spot;
    private readonly bool _split;
    private readonly bool _hasSpot;

    /// <summary>Creates a planner over <paramref name="tiers"/> that never plans more than <paramref name="maxReplicas"/>
    /// live replicas, sharing them between spot and on-demand tiers as <paramref name="spot"/> says (none: cost order alone).</summary>
    public PlacementPlanner(IReadOnlyList<TierInfo> tiers, int maxReplicas, SpotPolicy? spot = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxReplicas, 1);
        if (tiers.Count == 0)
            throw new ArgumentException("at least one tier is required", nameof(tiers));
        _tiers = [.. tiers];
        _tierIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < _tiers.Length; i++)
        {
            _tiers[i].Validate();
            if (!_tierIndex.TryAdd(_tiers[i].Name, i))
                throw new ArgumentException($"tier '{_tiers[i].Name}' is declared twice", nameof(tiers));
        }
        // Cheapest first; a $0 tier therefore always precedes a paid one (skypilot#6762), declared order breaks ties.
        _byCost = [.. Enumerable.Range(0, _tiers.Length)
            .OrderBy(i => _tiers[i].CostPerHour).ThenBy(i => _tiers[i].Order).ThenBy(i => i)];
        _maxReplicas = maxReplicas;
        _spot = (spot ?? new SpotPolicy()).Validate();
        // Fallback needs somewhere to fall back to and something to fall back from; otherwise cost order alone decides.
        _hasSpot = _tiers.Any(t => t.Spot);
        _split = _spot.IsActive && _hasSpot && _tiers.Any(t => !t.Spot);
    }

    /// <summary>The spot / on-demand policy in force.</summary>
    public SpotPolicy Spot => _spot;

    /// <summary>The tiers, as declared.</summary>
    public IReadOnlyList<TierInfo> Tiers => _tiers;

    /// <summary>The ceiling on live replicas.</summary>
    public int MaxReplicas => _maxReplicas;

    /// <inheritdoc />
    public PlacementPlan Plan(IReadOnlyList<ReplicaInfo> replicas, int targetReplicas, int targetVersion) =>
        Plan(replicas, targetReplicas, targetVersion, NoTiers);

    /// <inheritdoc />
    public PlacementPlan Plan(IReadOnlyList<ReplicaInfo> replicas, int targetReplicas, int targetVersion, IReadOnlySet<string> unavailableTiers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(targetReplicas);
        ArgumentNullException.ThrowIfNull(unavailableTiers);
        targetReplicas = Math.Min(targetReplicas, _maxReplicas);
        var blocked = Blocked(unavailableTiers);
        var occupied = new int[_tiers.Length];
        var launch = new List<string>();
        var terminate = new List<int>();
        var current = new List<Candidate>(replicas.Count);
        var old = new List<Candidate>();
        var live = 0;
        var draining = 0;
        string? lastName = null;
        var lastTier = -1;

        for (var i = 0; i < replicas.Count; i++)
        {
            var r = replicas[i];
            if (r.Status.IsTerminal())
            {
                // Clean up what failed; its replacement follows from the live count falling short of the target.
                terminate.Add(r.Id);
                continue;
            }
            // Replicas of one tier usually share the name's string instance: skip the hash lookup for runs of them.
            var tier = ReferenceEquals(r.Tier, lastName) ? lastTier : _tierIndex.GetValueOrDefault(r.Tier, -1);
            (lastName, lastTier) = (r.Tier, tier);
            if (tier >= 0)
                occupied[tier]++;
            if (r.Status == ReplicaStatus.ShuttingDown)
                draining++;
            if (!r.Status.CountsTowardMax())
                continue;
            live++;
            (r.Version == targetVersion ? current : old).Add(Describe(r, tier));
        }

        if (_hasSpot)
        {
            Crowd(current, occupied);
            Crowd(old, occupied);
        }
        var readyCurrent = CountReady(current);
        var sides = _split ? Split(current, old, occupied, blocked, targetReplicas) : default;
        // Ready replicas beyond what the autoscaler wants may go, stand-ins included: a stand-in whose spot replica is
        // ready again is surplus even while another stand-in still covers a spot replica that is starting.
        var readySurplus = readyCurrent - targetReplicas;
        // Stand-ins come on top of max_replicas, as SkyServe's fallback replicas do: they cover spot replicas the target
        // already counts, and the spot side keeps its room to launch the replicas they stand in for (else a service at its
        // max would stay on on-demand for good once spot came back).
        if (_split)
            targetReplicas += sides.StandIns;
        var freed = RetireOldVersions(old, targetReplicas, readyCurrent, terminate);
        live -= freed;
        var inPlace = false;

        var need = targetReplicas - current.Count;
        if (_split)
        {
            var room = _maxReplicas + sides.StandIns - live;
            if (room <= 0 && need > 0)
                room += FreeRoomForUpdate(old, readyCurrent, current.Count - readyCurrent, terminate);
            PlanSides(current, sides, occupied, blocked, room, readySurplus, targetReplicas, launch, terminate);
        }
        else if (need > 0)
        {
            var room = _maxReplicas - live;
            if (room <= 0)
                room += FreeRoomForUpdate(old, readyCurrent, current.Count - readyCurrent, terminate);
            if (room <= 0 && current.Count == 0 && CountReady(old) > 0)
            {
                // max_replicas == 1 during an update: the only alternatives are exceeding max by one or a moment with no
                // ready replica (skypilot#4907). Availability wins; the old replica goes once the new one is ready.
                room = 1;
            }
            for (var n = Math.Min(need, room); n > 0; n--)
            {
                var tier = CheapestFree(occupied, double.PositiveInfinity, blocked);
                if (tier < 0)
                    break;
                occupied[tier]++;
                launch.Add(_tiers[tier].Name);
            }
            if (launch.Count == 0 && old.Count > 0 && freed == 0 && draining == 0 && current.Count == readyCurrent)
            {
                // Every tier is full, so no new replica can start beside the old ones (a one-machine tier, for one):
                // roll in place, stopping one old replica (least useful first) to free its slot; its replacement
                // launches once it is gone. One at a time, and only while no new replica is still starting.
                terminate.Add(old[0].Id);
                old.RemoveAt(0);
                inPlace = true;
            }
        }
        else if (need < 0)
        {
            ScaleDown(current, -need, readyCurrent - targetReplicas, terminate);
        }
        else if (old.Count == 0 && terminate.Count == 0 && readyCurrent == current.Count)
        {
            Consolidate(current, occupied, blocked, _maxReplicas - live, launch);
        }

        return new PlacementPlan(launch, terminate, targetVersion, inPlace);
    }

    private Candidate Describe(in ReplicaInfo r, int tier)
    {
        // A replica on a tier no longer in the spec sorts as the most expensive, so it is the first to go.
        var cost = tier >= 0 ? _tiers[tier].CostPerHour : double.PositiveInfinity;
        var order = tier >= 0 ? _tiers[tier].Order : int.MaxValue;
        var scaleToZero = tier < 0 || _tiers[tier].ScaleToZero;
        return new Candidate(r.Id, r.Status.ScaleDownRank(), r.Status.IsReady(), cost, order, scaleToZero, r.LaunchedAt.UtcTicks, tier);
    }

    /// <summary>
    /// Stops old-version replicas as new-version ones become ready: as many as the new ready replicas cover beyond the
    /// target, not-ready ones first, then the most expensive ready ones, never taking the ready count below the target.
    /// Old replicas still starting are kept until then: they are capacity on its way. Returns how many were stopped.
    /// </summary>
    private static int RetireOldVersions(List<Candidate> old, int target, int readyCurrent, List<int> terminate)
    {
        if (old.Count == 0)
            return 0;
        old.Sort(Candidate.ScaleDownOrder);
        var surplus = readyCurrent + old.Count - target;
        var readySurplus = readyCurrent + CountReady(old) - target;
        var kept = new List<Candidate>(old.Count);
        var stopped = 0;
        foreach (var c in old)
        {
            if (surplus > 0 && (!c.Ready || readySurplus > 0))
            {
                if (c.Ready)
                    readySurplus--;
                surplus--;
                terminate.Add(c.Id);
                stopped++;
            }
            else
            {
                kept.Add(c);
            }
        }
        old.Clear();
        old.AddRange(kept);
        return stopped;
    }

    /// <summary>
    /// At max_replicas mid-update with nothing left to launch into, stops one more old replica (not-ready first, else the
    /// most expensive ready one) to make room for a new one, as long as another replica stays ready and no new replica
    /// is still starting: at most one replica's worth of capacity is unavailable at a time.
    /// </summary>
    private static int FreeRoomForUpdate(List<Candidate> old, int readyCurrent, int startingCurrent, List<int> terminate)
    {
        if (old.Count == 0 || startingCurrent > 0)
            return 0;
        if (old[0].Ready && readyCurrent + CountReady(old) - 1 < 1)
            return 0;
        terminate.Add(old[0].Id);
        old.RemoveAt(0);
        return 1;
    }

    /// <summary>
    /// Removes <paramref name="excess"/> current-version replicas: not-ready first, then ready ones from the most
    /// expensive tier, newest first, but never more ready ones than <paramref name="readySurplus"/>. When the whole excess
    /// is not-ready replicas on cheaper tiers standing in for ready ones on scale-to-zero tiers, it is a migration in
    /// progress (see <see cref="Consolidate"/>) and is kept.
    /// </summary>
    /// <returns>How many ready replicas it removed.</returns>
    private static int ScaleDown(List<Candidate> current, int excess, int readySurplus, List<int> terminate)
    {
        var notReady = new List<Candidate>();
        var ready = new List<Candidate>(current.Count);
        foreach (var c in current)
            (c.Ready ? ready : notReady).Add(c);

        // Migrations in flight are kept only when they are the whole excess; any real scale-down removes not-ready
        // replicas first, migrants included, and consolidation starts over once the service is stable again.
        var pairs = CountMigrants(notReady, ready);
        var protectedCount = readySurplus <= 0 && excess <= pairs ? excess : 0;
        notReady.Sort(Candidate.CheapestFirst);
        var unprotected = notReady.GetRange(protectedCount, notReady.Count - protectedCount);
        unprotected.Sort(Candidate.ScaleDownOrder);
        foreach (var c in unprotected)
        {
            if (excess == 0)
                return 0;
            terminate.Add(c.Id);
            excess--;
        }

        var take = Math.Min(ready.Count, Math.Min(excess, readySurplus));
        if (take <= 0)
            return 0;
        var span = CollectionsMarshal.AsSpan(ready);
        Selection.SmallestFirst(span, take, Candidate.ScaleDownOrder);
        for (var i = 0; i < take; i++)
            terminate.Add(span[i].Id);
        return take;
    }

    /// <summary>Pairs the cheapest not-ready replicas with the most expensive ready scale-to-zero ones they undercut.</summary>
    private static int CountMigrants(List<Candidate> notReady, List<Candidate> ready)
    {
        if (notReady.Count == 0)
            return 0;
        var expensive = ready.FindAll(static c => c.ScaleToZero);
        if (expensive.Count == 0)
            return 0;
        // Only as many expensive ones as there are not-ready ones can pair: select those, do not sort them all.
        Selection.SmallestFirst(CollectionsMarshal.AsSpan(expensive), notReady.Count, Candidate.ScaleDownOrder);
        notReady.Sort(Candidate.CheapestFirst);
        var pairs = 0;
        while (pairs < notReady.Count && pairs < expensive.Count && notReady[pairs].Cost < expensive[pairs].Cost)
            pairs++;
        return pairs;
    }

    /// <summary>
    /// When every replica is ready and nothing else is planned, launches replacements on cheaper tiers with room for
    /// replicas on scale-to-zero tiers; the expensive ones go once the replacements are ready (as ready surplus).
    /// </summary>
    private void Consolidate(List<Candidate> current, int[] occupied, bool[]? blocked, int room, List<string> launch)
    {
        if (room <= 0)
            return;
        var cheapestFree = CheapestFree(occupied, double.PositiveInfinity, blocked);
        if (cheapestFree < 0)
            return;
        var movable = current.FindAll(c => c.ScaleToZero && c.Cost > _tiers[cheapestFree].CostPerHour);
        // Moving more than the free room allows is impossible; pick the most expensive few without sorting them all.
        long freeSlots = 0;
        for (var t = 0; t < _tiers.Length; t++)
            freeSlots += _tiers[t].Capacity is { } cap ? Math.Max(0, cap - occupied[t]) : int.MaxValue;
        var moves = (int)Math.Min(Math.Min(room, freeSlots), movable.Count);
        var span = CollectionsMarshal.AsSpan(movable);
        Selection.SmallestFirst(span, moves, Candidate.ScaleDownOrder);
        foreach (var c in span[..moves])
        {
            if (room <= 0)
                return;
            var tier = CheapestFree(occupied, c.Cost, blocked);
            if (tier < 0)
                return;
            occupied[tier]++;
            launch.Add(_tiers[tier].Name);
            room--;
        }
    }

    /// <summary>
    /// The cheapest tier with free capacity costing less than <paramref name="below"/> and not blocked, or -1; with
    /// <paramref name="side"/>, only spot (true) or only non-spot (false) tiers. Among spot tiers of the same cost (zones
    /// of one region) the least occupied wins, so a zone's preemption burst takes only its share of the replicas.
    /// </summary>
    private int CheapestFree(int[] occupied, double below, bool[]? blocked, bool? side = null)
    {
        for (var i = 0; i < _byCost.Length; i++)
        {
            var t = _byCost[i];
            var tier = _tiers[t];
            if (tier.CostPerHour >= below)
                return -1;
            if (!HasRoom(t, occupied, blocked) || (side is { } spot && tier.Spot != spot))
                continue;
            if (!tier.Spot)
                return t;
            var best = t;
            for (var j = i + 1; j < _byCost.Length; j++)
            {
                var u = _byCost[j];
                if (_tiers[u].CostPerHour != tier.CostPerHour)
                    break;
                if (_tiers[u].Spot && HasRoom(u, occupied, blocked) && occupied[u] < occupied[best])
                    best = u;
            }
            return best;
        }
        return -1;
    }

    private bool HasRoom(int t, int[] occupied, bool[]? blocked) =>
        (blocked is null || !blocked[t]) && (_tiers[t].Capacity is not { } cap || occupied[t] < cap);

    private bool[]? Blocked(IReadOnlySet<string> unavailable)
    {
        if (unavailable.Count == 0)
            return null;
        var blocked = new bool[_tiers.Length];
        foreach (var name in unavailable)
        {
            if (_tierIndex.TryGetValue(name, out var t))
                blocked[t] = true;
        }
        return blocked;
    }

    /// <summary>Notes how full each spot replica's zone is, so scale-down evens out equal-cost zones (fullest first).</summary>
    private void Crowd(List<Candidate> list, int[] occupied)
    {
        var span = CollectionsMarshal.AsSpan(list);
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i].Tier >= 0 && _tiers[span[i].Tier].Spot)
                span[i] = span[i] with { Crowd = occupied[span[i].Tier] };
        }
    }

    private static int CountReady(List<Candidate> list)
    {
        var n = 0;
        foreach (var c in list)
        {
            if (c.Ready)
                n++;
        }
        return n;
    }

    private readonly record struct Candidate(int Id, int Rank, bool Ready, double Cost, int Order, bool ScaleToZero, long Launched, int Tier = -1, int Crowd = 0)
    {
        /// <summary>Least useful first: least advanced state, then most expensive tier, fullest spot zone, later-declared,
        /// newest, highest id.</summary>
        public static readonly Comparison<Candidate> ScaleDownOrder = static (a, b) =>
        {
            var c = a.Rank.CompareTo(b.Rank);
            if (c == 0) c = b.Cost.CompareTo(a.Cost);
            if (c == 0) c = b.Crowd.CompareTo(a.Crowd);
            if (c == 0) c = b.Order.CompareTo(a.Order);
            if (c == 0) c = b.Launched.CompareTo(a.Launched);
            if (c == 0) c = b.Id.CompareTo(a.Id);
            return c;
        };

        /// <summary>Cheapest tier first, then the most advanced state (the likeliest to become ready soon).</summary>
        public static readonly Comparison<Candidate> CheapestFirst = static (a, b) =>
        {
            var c = a.Cost.CompareTo(b.Cost);
            if (c == 0) c = b.Rank.CompareTo(a.Rank);
            if (c == 0) c = a.Id.CompareTo(b.Id);
            return c;
        };
    }
}
