using System.Diagnostics;
using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Placement;

namespace WrinkleFree.ServiceBench;

/// <summary>
/// Decision time per controller tick (autoscaler + placement planner) over a large fleet whose load wanders around its
/// size, so ticks scale up, scale down, replace failures and hold. The reference in the same run is one sort of the
/// replica list by (status, launch time): the least any victim selection has to do.
/// </summary>
internal static class ControllerBench
{
    private static readonly TierInfo[] Tiers =
    [
        new() { Name = "metal", Capacity = 50, CostPerHour = 0, Order = 0 },
        new() { Name = "kube", Capacity = 500, CostPerHour = 0.08, Order = 1 },
        new() { Name = "aws-spot", CostPerHour = 0.15, Spot = true, ScaleToZero = true, Order = 2 },
        new() { Name = "gcp-spot", Capacity = 4000, CostPerHour = 0.12, Spot = true, ScaleToZero = true, Order = 3 },
    ];

    public static int Run(string[] args)
    {
        var replicas = IntArg(args, "--replicas", 10_000);
        var ticks = IntArg(args, "--ticks", 2_000);
        var rng = new Random(IntArg(args, "--seed", 1));
        const double PerReplica = 5;

        var clock = new ManualClock(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
        var policy = new AutoscalerPolicy
        {
            MinReplicas = 20,
            MaxReplicas = replicas * 12 / 10,
            TargetQpsPerReplica = PerReplica,
            UpscaleDelay = TimeSpan.FromSeconds(40),
            DownscaleDelay = TimeSpan.FromSeconds(60),
        };
        var autoscaler = new RequestRateAutoscaler(policy, clock);
        var planner = new PlacementPlanner(Tiers, policy.MaxReplicas);

        // Start at the target size, already placed cheapest-first and ready.
        var fleet = new List<ReplicaInfo>(replicas * 2);
        var nextId = 1;
        foreach (var tier in planner.Plan([], replicas, 1).Launch)
            fleet.Add(new ReplicaInfo(nextId++, tier, ReplicaStatus.Ready, 1, clock.GetUtcNow()));
        var loads = new ReplicaLoad[policy.MaxReplicas * 2];

        var decide = new double[ticks];
        var scale = new double[ticks];
        var plan = new double[ticks];
        var reference = new double[ticks];
        long allocated = 0, launched = 0, terminated = 0;
        var sortScratch = new List<ReplicaInfo>(fleet.Capacity);

        for (var t = -200; t < ticks; t++)
        {
            // Load wanders +-15% around the fleet's size; a few replicas fail or go not-ready each tick.
            var qps = replicas * PerReplica * (1 + 0.15 * Math.Sin(t / 40.0) + 0.03 * (rng.NextDouble() - 0.5));
            for (var s = 0; s < 20; s++)
            {
                autoscaler.RecordRequests((long)qps);
                clock.Advance(TimeSpan.FromSeconds(1));
            }
            Churn(fleet, rng);
            var n = 0;
            var starting = 0;
            foreach (var r in fleet)
            {
                if (!r.Status.CountsTowardMax())
                    continue;
                if (r.Status is ReplicaStatus.Provisioning or ReplicaStatus.Starting)
                    starting++;
                loads[n++] = new ReplicaLoad(r.Status.IsReady(), TimeSpan.FromMilliseconds(100 + rng.Next(300)), rng.Next(20));
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            var t0 = Stopwatch.GetTimestamp();
            var decision = autoscaler.Evaluate(loads.AsSpan(0, n), starting);
            var t1 = Stopwatch.GetTimestamp();
            var p = planner.Plan(fleet, decision.TargetReplicas, 1);
            var t2 = Stopwatch.GetTimestamp();
            var bytes = GC.GetAllocatedBytesForCurrentThread() - before;

            sortScratch.Clear();
            sortScratch.AddRange(fleet);
            var t3 = Stopwatch.GetTimestamp();
            sortScratch.Sort(static (a, b) =>
            {
                var c = a.Status.CompareTo(b.Status);
                return c != 0 ? c : b.LaunchedAt.CompareTo(a.LaunchedAt);
            });
            var t4 = Stopwatch.GetTimestamp();

            if (t >= 0)
            {
                scale[t] = Micros(t1 - t0);
                plan[t] = Micros(t2 - t1);
                decide[t] = Micros(t2 - t0);
                reference[t] = Micros(t4 - t3);
                allocated += bytes;
                launched += p.Launch.Count;
                terminated += p.Terminate.Count;
            }
            Apply(fleet, p, clock.GetUtcNow(), ref nextId);
        }

        Console.WriteLine($"controller decision time: {replicas:N0} replicas, {ticks:N0} ticks ({launched:N0} launches, {terminated:N0} terminations planned), {Environment.ProcessorCount} cores");
        Console.WriteLine();
        Console.WriteLine("| part | median µs | p99 µs | max µs |");
        Console.WriteLine("|---|---:|---:|---:|");
        Row("autoscaler (Evaluate)", scale);
        Row("planner (Plan)", plan);
        Row("decision (both)", decide);
        Row("reference: sort replicas once", reference);
        Console.WriteLine();
        Console.WriteLine($"decision / reference (median): {Percentile(decide, 0.5) / Percentile(reference, 0.5):F2}x; allocated per tick: {allocated / ticks / 1024.0:F0} KiB");
        return 0;
    }

    /// <summary>Starting replicas become ready, drained ones leave, and a few ready ones fail, are preempted or go not-ready.</summary>
    private static void Churn(List<ReplicaInfo> fleet, Random rng)
    {
        fleet.RemoveAll(r => r.Status == ReplicaStatus.ShuttingDown);
        for (var i = 0; i < fleet.Count; i++)
        {
            var r = fleet[i];
            var roll = rng.NextDouble();
            fleet[i] = r.Status switch
            {
                ReplicaStatus.Provisioning => r with { Status = ReplicaStatus.Starting },
                ReplicaStatus.Starting or ReplicaStatus.NotReady => r with { Status = ReplicaStatus.Ready },
                ReplicaStatus.Ready when roll < 0.0002 => r with { Status = r.Tier.EndsWith("spot", StringComparison.Ordinal) ? ReplicaStatus.Preempted : ReplicaStatus.Failed },
                ReplicaStatus.Ready when roll < 0.0005 => r with { Status = ReplicaStatus.NotReady },
                _ => r,
            };
        }
    }

    private static void Apply(List<ReplicaInfo> fleet, PlacementPlan plan, DateTimeOffset now, ref int nextId)
    {
        if (plan.Terminate.Count > 0)
        {
            var stop = plan.Terminate.ToHashSet();
            fleet.RemoveAll(r => stop.Contains(r.Id) && r.Status.IsTerminal());
            for (var i = 0; i < fleet.Count; i++)
            {
                if (stop.Contains(fleet[i].Id))
                    fleet[i] = fleet[i] with { Status = ReplicaStatus.ShuttingDown };
            }
        }
        foreach (var tier in plan.Launch)
            fleet.Add(new ReplicaInfo(nextId++, tier, ReplicaStatus.Provisioning, plan.Version, now));
    }

    private static void Row(string name, double[] values) =>
        Console.WriteLine($"| {name} | {Percentile(values, 0.5):F0} | {Percentile(values, 0.99):F0} | {values.Max():F0} |");

    private static double Percentile(double[] values, double p)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Round(p * (sorted.Length - 1)))];
    }

    private static double Micros(long ticks) => ticks * 1e6 / Stopwatch.Frequency;

    private static int IntArg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }
}
