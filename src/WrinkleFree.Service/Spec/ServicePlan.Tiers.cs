using System.Globalization;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Service.Spec;

public sealed partial record ServicePlan
{
    /// <summary>
    /// Tier capacities as the controller uses them: the same checks as a plan, with every overrulable one overruled (a
    /// stored service was checked when it was created, and may have been created with --force), and none that throws.
    /// </summary>
    /// <param name="launchable">Whether a tier's provider can launch replicas here.</param>
    /// <param name="found">The room a provider found for a tier (<see cref="IProviderCapacity"/>), or null.</param>
    internal static IReadOnlyList<TierPlan> TierCapacities(ServiceSpec spec, Func<TierSpec, bool> launchable, Func<TierSpec, TierCapacity?> found, MachineShape machine) =>
        PlanTiers(spec, launchable, found, machine, new Checks(force: true), strict: false);

    private static List<TierPlan> PlanTiers(ServiceSpec spec, Func<TierSpec, bool> launchable, Func<TierSpec, TierCapacity?> found, MachineShape machine, Checks checks, bool strict)
    {
        var tiers = spec.Tiers;
        var capacity = tiers.Select(t => t.Capacity).ToArray();
        var notes = new string?[tiers.Count];

        var idle = Enumerable.Range(0, tiers.Count).Where(i => !launchable(tiers[i])).ToList();
        if (idle.Count > 0)
        {
            foreach (var i in idle)
            {
                capacity[i] = 0;
                notes[i] = $"provider {ProviderName(tiers[i])} cannot launch replicas yet{IssueOf(tiers[i].Provider)}";
            }

            checks.Refuse(
                $"tiers[{idle[0]}].provider",
                string.Join("; ", idle.Select(i => $"tier '{tiers[i].Name}': {notes[i]}")),
                idle.Count == 1 ? "remove the tier, or pass --force to run without it" : "remove these tiers, or pass --force to run without them",
                idle.Count == 1 ? "its capacity is 0" : "their capacity is 0");
        }

        for (var i = 0; i < tiers.Count; i++)
        {
            if (capacity[i] > 0 && found(tiers[i]) is { } room)
            {
                capacity[i] = Math.Min(capacity[i], room.Replicas);
                notes[i] = room.Note + (tiers[i].IsUnlimited || tiers[i].Capacity >= room.Replicas ? "" : $"; capacity {tiers[i].Capacity} as written");
            }
        }

        CheckSpot(spec, capacity, notes, checks);
        FitResources(spec, machine, capacity, notes, checks);

        if (strict)
        {
            long total = capacity.Sum(c => (long)c);
            var min = spec.Service.ReplicaPolicy.MinReplicas;
            if (total == 0 || total < min)
            {
                throw new ServiceSpecException("tiers",
                    $"the tiers that can take replicas here hold {total}, {(total == 0 ? "so no replica can ever start" : $"below min_replicas ({min})")}: "
                    + string.Join("; ", tiers.Select((t, i) => $"'{t.Name}' {Count(capacity[i])}{(notes[i] is { } n ? $" ({n})" : "")}")));
            }
        }

        return [.. tiers.Select((t, i) => new TierPlan
        {
            Name = t.Name,
            Provider = ProviderName(t),
            WrittenCapacity = t.Capacity,
            Capacity = capacity[i],
            CostPerHour = t.CostPerHour,
            Spot = t.Spot,
            ScaleToZero = t.ScaleToZero,
            Note = notes[i],
        })];
    }

    /// <summary><c>resources.use_spot: true</c>: replicas only on tiers with <c>spot: true</c>.</summary>
    private static void CheckSpot(ServiceSpec spec, int[] capacity, string?[] notes, Checks checks)
    {
        if (spec.Resources.UseSpot != true)
        {
            return;
        }

        var usable = Enumerable.Range(0, capacity.Length).Where(i => capacity[i] > 0).ToList();
        if (usable.Any(i => spec.Tiers[i].Spot))
        {
            foreach (var i in usable.Where(i => !spec.Tiers[i].Spot))
            {
                capacity[i] = 0;
                notes[i] = "not spot, and resources.use_spot is true";
            }

            return;
        }

        var names = string.Join(", ", usable.Select(i => $"'{spec.Tiers[i].Name}'"));
        checks.Refuse(
            "resources.use_spot",
            $"true puts replicas only on tiers with spot: true, and no tier that can take replicas here is spot ({(names.Length > 0 ? names : "none")})",
            "add a tier with spot: true, or pass --force to use these tiers",
            "replicas go to the tiers there are");
    }

    /// <summary>
    /// <c>resources.cpus</c> and <c>resources.memory</c> against the machine of the local tiers. They share this one machine,
    /// so the replicas it fits are handed out cheapest tier first, as placement fills them.
    /// </summary>
    private static void FitResources(ServiceSpec spec, MachineShape machine, int[] capacity, string?[] notes, Checks checks)
    {
        var resources = spec.Resources;
        var fit = ResourceFit.Replicas(resources, machine);
        var local = Enumerable.Range(0, capacity.Length)
            .Where(i => spec.Tiers[i].Provider == TierProvider.Local && capacity[i] > 0)
            .OrderBy(i => spec.Tiers[i].CostPerHour).ThenBy(i => i)
            .ToList();
        if (fit == int.MaxValue || local.Count == 0)
        {
            return;
        }

        var cpus = ResourceFit.Cpus(resources);
        var memory = ResourceFit.MemoryGiB(resources);
        var byCpus = ResourceFit.ByCpus(resources, machine) <= ResourceFit.ByMemory(resources, machine);
        var keyPath = byCpus ? "resources.cpus" : "resources.memory";
        var machineName = $"this machine (local tier{(local.Count > 1 ? "s" : "")} {string.Join(", ", local.Select(i => $"'{spec.Tiers[i].Name}'"))})";
        var has = byCpus
            ? $"has {machine.Cores}"
            : $"has {ResourceFit.Describe(machine.MemoryGiB, "GiB")}";
        var needs = byCpus
            ? $"{resources.Cpus} needs {ResourceFit.Describe(cpus!.Value, "cores")}"
            : $"{resources.Memory} needs {ResourceFit.Describe(memory!.Value, "GiB")} of memory";
        var shape = string.Join(", ", new[]
        {
            cpus is { } c ? ResourceFit.Describe(c, "cores") : null,
            memory is { } m ? ResourceFit.Describe(m, "GiB") : null,
        }.OfType<string>());

        var remaining = fit;
        var fitted = new int[capacity.Length];
        foreach (var i in local)
        {
            fitted[i] = Math.Min(capacity[i], remaining);
            remaining -= fitted[i];
        }

        long total = Enumerable.Range(0, capacity.Length).Sum(i => (long)(local.Contains(i) ? fitted[i] : capacity[i]));
        var min = spec.Service.ReplicaPolicy.MinReplicas;
        string? problem = null;
        if (fit == 0)
        {
            problem = $"{needs}, {machineName} {has}";
        }
        else if (total < min)
        {
            problem = $"{min} replicas (min_replicas) of {shape} do not fit: {machineName} fits {Count(fit)}";
        }

        if (problem is not null)
        {
            checks.Refuse(keyPath, problem, "pass --force to run anyway", "tier capacity left as written");
            foreach (var i in local)
            {
                notes[i] = $"{shape} per replica does not fit; capacity left as written (--force)";
            }

            return;
        }

        foreach (var i in local)
        {
            capacity[i] = fitted[i];
            notes[i] = string.Create(CultureInfo.InvariantCulture,
                $"{machine.Cores} cores, {machine.MemoryGiB:0.#} GiB fit {Count(fit)} replica{(fit == 1 ? "" : "s")} of {shape}{(local.Count > 1 ? ", cheapest local tier first" : "")}");
        }
    }

    private static string Count(int capacity) =>
        capacity == TierSpec.UnlimitedCapacity ? "unlimited" : capacity.ToString(CultureInfo.InvariantCulture);

    /// <summary>The issue that builds a provider, for messages about tiers it cannot launch yet.</summary>
    private static string IssueOf(TierProvider provider) => provider switch
    {
        TierProvider.Ssh => " (issue 13)",
        TierProvider.Kubernetes => " (issue 14)",
        TierProvider.Cloud => " (issue 15)",
        _ => "",
    };
}
