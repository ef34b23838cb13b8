using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.Placement;

namespace WrinkleFree.Service.Controller;

/// <summary>
/// The controller's decision step without I/O: from the replicas the controller knows and their health signals, ask
/// the autoscaler for a target and the planner for the launches and terminations that move toward it. The reconcile
/// loop around it carries the plan out through providers and calls it again after <see cref="ControllerDecision.NextTickIn"/>.
/// A spot tier (or any tier whose launches can be refused for capacity: <see cref="TierInfo.CapacityLimited"/>, a cloud
/// tier) whose launches keep failing to provision (the zone is out of capacity: <see cref="CapacityFailures"/> in a row
/// with none provisioned between them) takes no launches for <see cref="CapacityCooldown"/>, so replacements go to the
/// next tier instead of failing there again every tick.
/// </summary>
public sealed class ControllerDecisionCore
{
    private readonly TimeProvider _time;
    private readonly Dictionary<string, DateTimeOffset> _unavailableUntil = new(StringComparer.Ordinal);
    private readonly HashSet<int> _seenProvisionFailures = [];
    private readonly HashSet<int> _seenProvisioned = [];
    private readonly Dictionary<string, int> _failuresInARow = new(StringComparer.Ordinal);
    // Per-tick scratch, kept to spare a 10,000-replica tick its allocations.
    private readonly HashSet<int> _listedFailures = [];
    private readonly HashSet<int> _listedProvisioned = [];
    private readonly Dictionary<string, (int Failed, int Provisioned)> _fresh = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unavailable = new(StringComparer.Ordinal);
    private IPlacementPlanner _planner;
    private HashSet<string> _capacityLimited;

    /// <summary>Combines an autoscaler with a placement planner; <paramref name="time"/> dates spot capacity cooldowns.</summary>
    public ControllerDecisionCore(RequestRateAutoscaler autoscaler, IPlacementPlanner planner, TimeProvider? time = null)
    {
        Autoscaler = autoscaler;
        _planner = planner;
        _capacityLimited = CapacityLimitedTiersOf(planner);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How long a spot or capacity-limited tier takes no launches after its launches failed to provision.</summary>
    public TimeSpan CapacityCooldown { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Provision failures in a row on one spot or capacity-limited tier that start its cooldown. One is not enough: at a thousand launches a
    /// day the odd failure happens in every zone, and treating each as an outage would keep every zone cooling down.
    /// </summary>
    public int CapacityFailures { get; init; } = 2;

    /// <summary>The spot and capacity-limited tiers cooling down after a failed provision, as of the last decision.</summary>
    public IReadOnlySet<string> UnavailableTiers => _unavailable;

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
        var unavailable = CoolDown(replicas);
        var plan = unavailable.Count == 0
            ? _planner.Plan(replicas, scaling.TargetReplicas, targetVersion)
            : _planner.Plan(replicas, scaling.TargetReplicas, targetVersion, unavailable);
        return new ControllerDecision(scaling, plan, Autoscaler.NextDecisionDelay);
    }

    /// <summary>A planner with new tier capacities (a provider found more or less room); the autoscaler keeps its state.</summary>
    public void ReplacePlanner(IPlacementPlanner planner)
    {
        _planner = planner;
        _capacityLimited = CapacityLimitedTiersOf(planner);
    }

    /// <summary>Applies an update: the new policy (counters reset) and, when tiers or max changed, a new planner.</summary>
    public ScalingDecision Update(AutoscalerPolicy policy, IPlacementPlanner? planner = null)
    {
        if (planner is not null)
            ReplacePlanner(planner);
        return Autoscaler.UpdatePolicy(policy);
    }

    /// <summary>
    /// Counts, per spot or capacity-limited tier, provision failures and successes not seen before (a replica stays listed for many ticks, so
    /// each is counted once); a tier whose failures in a row reach <see cref="CapacityFailures"/> starts a cooldown.
    /// Returns the tiers still cooling down.
    /// </summary>
    private HashSet<string> CoolDown(IReadOnlyList<ReplicaInfo> replicas)
    {
        var now = _time.GetUtcNow();
        if (_capacityLimited.Count > 0)
        {
            var failed = _listedFailures;
            var provisioned = _listedProvisioned;
            var fresh = _fresh;
            failed.Clear();
            provisioned.Clear();
            fresh.Clear();
            string? lastName = null;
            var lastSpot = false;
            for (var i = 0; i < replicas.Count; i++)
            {
                var r = replicas[i];
                // Replicas of one tier usually share the name's string instance: skip the hash lookup for runs of them.
                var spot = ReferenceEquals(r.Tier, lastName) ? lastSpot : _capacityLimited.Contains(r.Tier);
                (lastName, lastSpot) = (r.Tier, spot);
                if (!spot)
                    continue;
                if (r.Status == ReplicaStatus.FailedProvision)
                {
                    failed.Add(r.Id);
                    if (_seenProvisionFailures.Add(r.Id))
                        fresh[r.Tier] = (fresh.GetValueOrDefault(r.Tier).Failed + 1, fresh.GetValueOrDefault(r.Tier).Provisioned);
                }
                else if (r.Status is ReplicaStatus.Starting or ReplicaStatus.Ready or ReplicaStatus.NotReady)
                {
                    provisioned.Add(r.Id);
                    if (_seenProvisioned.Add(r.Id))
                        fresh[r.Tier] = (fresh.GetValueOrDefault(r.Tier).Failed, fresh.GetValueOrDefault(r.Tier).Provisioned + 1);
                }
            }
            _seenProvisionFailures.IntersectWith(failed);
            _seenProvisioned.IntersectWith(provisioned);
            foreach (var (tier, (f, p)) in fresh)
            {
                // Within one tick the order is unknown: a machine that came up means the zone still has capacity.
                var inARow = p > 0 ? 0 : _failuresInARow.GetValueOrDefault(tier) + f;
                _failuresInARow[tier] = inARow;
                if (inARow >= CapacityFailures)
                {
                    _unavailableUntil[tier] = now + CapacityCooldown;
                    _failuresInARow[tier] = 0;
                }
            }
        }
        _unavailable.Clear();
        foreach (var (tier, until) in _unavailableUntil)
        {
            if (until > now)
                _unavailable.Add(tier);
        }
        if (_unavailable.Count < _unavailableUntil.Count)
        {
            foreach (var tier in _unavailableUntil.Keys.Where(t => !_unavailable.Contains(t)).ToList())
                _unavailableUntil.Remove(tier);
        }
        return _unavailable;
    }

    // Only the cost-ordered planner knows which tiers are spot or capacity-limited; other planners get no cooldowns.
    private static HashSet<string> CapacityLimitedTiersOf(IPlacementPlanner planner) => planner is PlacementPlanner p
        ? new HashSet<string>(p.Tiers.Where(t => t.Spot || t.CapacityLimited).Select(t => t.Name), StringComparer.Ordinal)
        : new HashSet<string>(StringComparer.Ordinal);
}
