using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Placement;

namespace WrinkleFree.Service.Tests.Simulation;

/// <summary>
/// Runs the controller's decision core over a simulated fleet on a virtual clock: requests from a trace reach the
/// autoscaler, plans launch and stop replicas, replicas take tier-dependent time to provision and start, some fail,
/// are preempted or go briefly not-ready. Every tick the invariants are checked and the cost integral accumulated. With a
/// <see cref="SpotMarket"/>, spot tiers are zones whose preemptions and capacity outages follow it; every second the
/// ready capacity is compared with the demand (availability) and the requests served are counted (tokens).
/// </summary>
internal sealed class FleetSimulation(IReadOnlyList<TierInfo> tiers, AutoscalerPolicy policy, DiurnalTrace trace, int seed, SpotMarket? market = null)
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StartupTime = TimeSpan.FromSeconds(40);

    /// <summary>Load per ready replica, relative to target_qps_per_replica, at which the sim's TTFT model
    /// (120 + 300 u² ms) reaches the 500 ms p50 target: above it the latency SLO is missed.</summary>
    public const double LatencyHeadroom = 1.125;

    /// <summary>Load per ready replica, relative to the target, that a replica can serve at all; the rest is dropped.</summary>
    public const double Saturation = 2.0;

    /// <summary>Prompt plus completion tokens per request, for cost per token.</summary>
    public const int TokensPerRequest = 600;

    public SimulationResult Run(Func<IPlacementPlanner> makePlanner, TimeSpan duration, bool checkInvariants, TimeSpan? rollOutAt = null)
    {
        var version = 1;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
        var start = time.GetUtcNow();
        var rng = new Random(seed);
        var core = new ControllerDecisionCore(new RequestRateAutoscaler(policy, time), makePlanner(), time);
        var perReplica = policy.TargetQpsPerReplica ?? 1;
        var readyNow = 0;
        long metSeconds = 0;
        long measuredSeconds = 0;
        var missedByHour = new int[(int)Math.Ceiling(duration.TotalHours)];
        var served = 0.0;
        var preemptions = 0;
        var tierByName = tiers.ToDictionary(t => t.Name);
        var fleet = new List<SimReplica>();
        var replicaHours = tiers.ToDictionary(t => t.Name, _ => 0.0);
        var violations = new List<string>();
        var snapshot = new List<ReplicaInfo>();
        var loads = new List<ReplicaLoad>();
        var nextId = 1;
        var cost = 0.0;
        var ticks = 0;
        var peakLive = 0;
        var launched = 0;
        var failures = 0;
        var minReady = int.MaxValue;
        var minScaleToZeroLive = int.MaxValue;
        var next = TimeSpan.Zero;

        while (time.GetUtcNow() - start < duration)
        {
            // Requests arrive second by second until the next decision.
            for (var s = 0; s < next.TotalSeconds; s++)
            {
                var t = (time.GetUtcNow() - start).TotalSeconds;
                var qpsNow = trace.QpsAt(t);
                // Poisson-ish jitter without per-request work: round the expected count stochastically.
                var expected = qpsNow;
                var count = (long)expected + (rng.NextDouble() < expected - Math.Floor(expected) ? 1 : 0);
                core.Autoscaler.RecordRequests(count);
                served += Math.Min(count, readyNow * perReplica * Saturation);
                if (t >= 3600)
                {
                    measuredSeconds++;
                    if (count <= readyNow * perReplica * LatencyHeadroom)
                        metSeconds++;
                    else
                        missedByHour[Math.Min(missedByHour.Length - 1, (int)(t / 3600))]++;
                }
                time.Advance(TimeSpan.FromSeconds(1));
            }
            // The fleet only changes at decisions, so the cost of the interval is its state times its length.
            Accrue(fleet, tierByName, replicaHours, ref cost, next);
            var now = time.GetUtcNow();
            var (failed, preempted) = Progress(fleet, tierByName, now, (now - start).TotalSeconds, next, rng);
            failures += failed;
            preemptions += preempted;

            var qps = trace.QpsAt((now - start).TotalSeconds);
            if (version == 1 && now - start >= rollOutAt)
            {
                // `wf update NAME SPEC`: a new version; the update also resets the autoscaler's counters.
                version = 2;
                core.Update(policy);
            }
            Observe(fleet, snapshot, loads, qps, policy.TargetQpsPerReplica ?? 1);
            var decision = core.Decide(snapshot, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(loads), version);
            ticks++;

            var liveBefore = fleet.Count(r => r.Status.CountsTowardMax());
            Apply(fleet, decision.Plan, now, (now - start).TotalSeconds, tierByName, rng, ref nextId);
            launched += decision.Plan.Launch.Count;

            var live = fleet.Count(r => r.Status.CountsTowardMax());
            var ready = fleet.Count(r => r.Status.IsReady());
            readyNow = ready;
            peakLive = Math.Max(peakLive, live);
            if (now - start > TimeSpan.FromHours(1))
            {
                minReady = Math.Min(minReady, ready);
                minScaleToZeroLive = Math.Min(minScaleToZeroLive, fleet.Count(r => r.Status.CountsTowardMax() && tierByName[r.Tier].ScaleToZero));
            }
            if (checkInvariants)
                Check(decision, snapshot, fleet, tierByName, liveBefore, live, now - start, violations);
            next = decision.NextTickIn;
        }

        var oldAtEnd = fleet.Count(r => r.Status.CountsTowardMax() && r.Version != version);
        return new SimulationResult(cost, ticks, peakLive, launched, failures, minReady == int.MaxValue ? 0 : minReady,
            minScaleToZeroLive == int.MaxValue ? 0 : minScaleToZeroLive, oldAtEnd, violations, replicaHours)
        {
            Preemptions = preemptions,
            Availability = measuredSeconds == 0 ? 0 : (double)metSeconds / measuredSeconds,
            TokensServed = served * TokensPerRequest,
            MissedSecondsByHour = missedByHour,
        };
    }

    private void Check(ControllerDecision decision, List<ReplicaInfo> before, List<SimReplica> fleet,
        Dictionary<string, TierInfo> tierByName, int liveBefore, int live, TimeSpan at, List<string> violations)
    {
        var target = decision.Scaling.TargetReplicas;
        if (violations.Count > 20)
            return;
        // On-demand stand-ins come on top of max_replicas (SkyServe's fallback), never more than the spot replicas the
        // target counts that are not ready.
        var readySpot = fleet.Count(r => r.Status.IsReady() && tierByName[r.Tier].Spot);
        var allowed = policy.MaxReplicas + Math.Max(0, target - readySpot);
        if (live > allowed)
            violations.Add($"{at}: {live} live replicas > max {policy.MaxReplicas} plus {allowed - policy.MaxReplicas} stand-ins");
        if (target < policy.MinReplicas || target > policy.MaxReplicas)
            violations.Add($"{at}: target {target} outside [{policy.MinReplicas}, {policy.MaxReplicas}]");
        var stopped = decision.Plan.Terminate.ToHashSet();
        var liveTerminated = before.Count(r => stopped.Contains(r.Id) && r.Status.CountsTowardMax());
        if (liveTerminated > 0 && liveBefore - liveTerminated < Math.Min(target, liveBefore))
            violations.Add($"{at}: scaled {liveBefore} down by {liveTerminated} below target {target}: " +
                string.Join(", ", before.Where(r => stopped.Contains(r.Id) && r.Status.CountsTowardMax()).Select(r => $"{r.Id} {r.Tier} {r.Status} v{r.Version}")));
        foreach (var tier in tiers)
        {
            if (tier.Capacity is { } cap && fleet.Count(r => r.Tier == tier.Name && !r.Status.IsTerminal()) > cap)
                violations.Add($"{at}: tier {tier.Name} over its capacity {cap}");
        }

        // Cost order of scale-down: a ready replica is only stopped when no more expensive tier keeps a ready one.
        // Retiring an old version goes by version first; the cost order applies within the current one.
        var stoppedReady = before.Where(r => r.Status.IsReady() && r.Version == decision.Plan.Version && stopped.Contains(r.Id)).ToList();
        if (stoppedReady.Count == 0)
            return;
        var cheapestStopped = stoppedReady.Min(r => tierByName[r.Tier].CostPerHour);
        var keptExpensive = fleet.FirstOrDefault(r => r.Status.IsReady() && r.Version == decision.Plan.Version && tierByName[r.Tier].CostPerHour > cheapestStopped);
        if (keptExpensive is not null)
            violations.Add($"{at}: stopped a ready replica at ${cheapestStopped}/h while {keptExpensive.Tier} keeps ready ones");
    }

    private static void Accrue(List<SimReplica> fleet, Dictionary<string, TierInfo> tiers, Dictionary<string, double> hours, ref double cost, TimeSpan dt)
    {
        var h = dt.TotalHours;
        var perTier = new Dictionary<string, int>();
        foreach (var r in fleet)
        {
            // A replica costs from launch until it is stopped (draining included); a failed one's machine is gone.
            if (!r.Status.IsTerminal())
                perTier[r.Tier] = perTier.GetValueOrDefault(r.Tier) + 1;
        }
        foreach (var (tier, n) in perTier)
        {
            cost += tiers[tier].CostPerHour * h * n;
            hours[tier] += h * n;
        }
    }

    /// <summary>Advances every replica's lifecycle to <paramref name="now"/>; returns how many failed (preemptions
    /// included) and how many of them were preempted.</summary>
    private (int Failed, int Preempted) Progress(List<SimReplica> fleet, Dictionary<string, TierInfo> tiers, DateTimeOffset now, double seconds, TimeSpan step, Random rng)
    {
        var failed = 0;
        var preempted = 0;
        var hoursStep = step.TotalHours;
        fleet.RemoveAll(r => r.Status == ReplicaStatus.ShuttingDown && r.GoneAt <= now);
        foreach (var r in fleet)
        {
            switch (r.Status)
            {
                case ReplicaStatus.Provisioning when r.ReadyAt - StartupTime <= now:
                    r.Status = r.DoomedProvision ? ReplicaStatus.FailedProvision : ReplicaStatus.Starting;
                    failed += r.DoomedProvision ? 1 : 0;
                    break;
                case ReplicaStatus.Starting when r.DoomedStart && r.ReadyAt + TimeSpan.FromMinutes(10) <= now:
                    r.Status = ReplicaStatus.FailedInitialDelay;
                    failed++;
                    break;
                case ReplicaStatus.Starting when !r.DoomedStart && r.ReadyAt <= now:
                    r.Status = ReplicaStatus.Ready;
                    break;
                case ReplicaStatus.Ready:
                    var tier = tiers[r.Tier];
                    var roll = rng.NextDouble();
                    // Without a market every spot tier loses 3 % per hour. Failures and hiccups keep the thresholds they
                    // always had (failed below 4 %/h, not-ready up to 6 %/h), above the preemption band where it is wider.
                    var preempt = !tier.Spot ? 0 : market is null ? 0.03 : market.PreemptionRate(r.Tier, seconds);
                    var odds = Math.Max(preempt, 0.03) * hoursStep;
                    if (tier.Spot && roll < preempt * hoursStep)
                    {
                        r.Status = ReplicaStatus.Preempted;
                        failed++;
                        preempted++;
                    }
                    else if (roll < odds + 0.01 * hoursStep)
                    {
                        r.Status = ReplicaStatus.Failed;
                        failed++;
                    }
                    else if (roll < odds + 0.03 * hoursStep)
                    {
                        r.Status = ReplicaStatus.NotReady;
                        r.RecoverAt = now + TimeSpan.FromSeconds(60 + rng.Next(120));
                    }
                    break;
                case ReplicaStatus.NotReady when r.RecoverAt <= now:
                    r.Status = ReplicaStatus.Ready;
                    break;
            }
        }
        return (failed, preempted);
    }

    private static void Observe(List<SimReplica> fleet, List<ReplicaInfo> snapshot, List<ReplicaLoad> loads, double qps, double perReplica)
    {
        snapshot.Clear();
        loads.Clear();
        var ready = 0;
        foreach (var r in fleet)
        {
            snapshot.Add(new ReplicaInfo(r.Id, r.Tier, r.Status, r.Version, r.LaunchedAt));
            if (r.Status.IsReady())
                ready++;
        }
        // Utilization of the ready replicas drives the health signals: TTFT grows with load, queues build past 1.0.
        var utilization = qps / Math.Max(1, ready * perReplica);
        var ttft = TimeSpan.FromMilliseconds(120 + 300 * utilization * utilization);
        var queue = (int)Math.Max(0, (utilization - 1) * 120);
        foreach (var r in fleet)
        {
            if (r.Status.CountsTowardMax())
                loads.Add(new ReplicaLoad(r.Status.IsReady(), r.Status.IsReady() ? ttft : null, r.Status.IsReady() ? queue : 0));
        }
    }

    private void Apply(List<SimReplica> fleet, PlacementPlan plan, DateTimeOffset now, double seconds, Dictionary<string, TierInfo> tiers, Random rng, ref int nextId)
    {
        if (plan.Terminate.Count > 0)
        {
            var stop = plan.Terminate.ToHashSet();
            fleet.RemoveAll(r => stop.Contains(r.Id) && r.Status.IsTerminal());
            foreach (var r in fleet)
            {
                if (stop.Contains(r.Id))
                {
                    r.Status = ReplicaStatus.ShuttingDown;
                    r.GoneAt = now + Drain;
                }
            }
        }
        foreach (var tierName in plan.Launch)
        {
            var tier = tiers[tierName];
            // Bare metal starts a process; Kubernetes schedules a pod; cloud spot boots a VM.
            var provision = TimeSpan.FromSeconds(tier.CostPerHour == 0 ? 10 : tier.Spot ? 90 + rng.Next(90) : 30 + rng.Next(30));
            // A zone out of capacity answers the launch with a capacity error within seconds.
            var noCapacity = market is not null && tier.Spot && market.OutOfCapacity(tierName, seconds);
            if (noCapacity)
                provision = TimeSpan.FromSeconds(20);
            fleet.Add(new SimReplica
            {
                Id = nextId++,
                Tier = tierName,
                Version = plan.Version,
                Status = ReplicaStatus.Provisioning,
                LaunchedAt = now,
                ReadyAt = now + provision + StartupTime,
                DoomedProvision = (tier.Spot && rng.NextDouble() < 0.02) || noCapacity,
                DoomedStart = rng.NextDouble() < 0.005,
            });
        }
    }

    private sealed class SimReplica
    {
        public int Id { get; init; }
        public required string Tier { get; init; }
        public int Version { get; init; }
        public ReplicaStatus Status { get; set; }
        public DateTimeOffset LaunchedAt { get; init; }
        public DateTimeOffset ReadyAt { get; init; }
        public DateTimeOffset RecoverAt { get; set; }
        public DateTimeOffset GoneAt { get; set; }
        public bool DoomedProvision { get; init; }
        public bool DoomedStart { get; init; }
    }
}
