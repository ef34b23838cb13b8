using System.Globalization;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Cloud;

/// <summary>
/// The machine types a cloud tier chooses from when its settings give no <c>instance_type</c> but the spec's
/// <c>resources:</c> asks for cpus and/or memory: the cheapest type that satisfies both, as SkyPilot picks from its
/// catalog. Written by hand: SkyPilot's catalog is a set of CSVs it downloads at run time, and no .NET library carries
/// one. The families are the current general-purpose, memory- and compute-optimized x86 ones whose sizes scale linearly
/// (price and memory per vCPU are constant within a family); prices are us-east-1 / us-central1 on-demand list prices of
/// 2025 and only rank the candidates: what a replica costs is still the tier's <c>cost_per_hour</c>.
/// </summary>
public static class InstanceCatalog
{
    private static readonly int[] AwsSizes = [2, 4, 8, 16, 32, 48, 64, 96, 192];
    private static readonly int[] GcpSizes = [2, 4, 8, 16, 32, 48, 64, 80, 96, 128];

    /// <summary>Every type the catalog knows, both clouds.</summary>
    public static IReadOnlyList<MachineType> All { get; } = Build();

    /// <summary>The type named <paramref name="name"/> on <paramref name="infra"/>, or null when the catalog lacks it.</summary>
    public static MachineType? Find(string infra, string name) =>
        All.FirstOrDefault(t => t.Infra == infra && string.Equals(t.Name, name, StringComparison.Ordinal));

    /// <summary>
    /// The cheapest type on <paramref name="infra"/> that satisfies <c>resources.cpus</c> and <c>resources.memory</c>
    /// ("8" exactly 8 vCPUs, "8+" at least 8; memory likewise in GiB, "4x" at least 4 GiB per vCPU); ties go to fewer
    /// vCPUs. Throws <see cref="ServiceSpecException"/> naming the key when nothing fits.
    /// </summary>
    public static MachineType Choose(string infra, ResourcesSpec resources, string resourcesPath)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var fitting = All.Where(t => t.Infra == infra && Fits(t, resources))
            .OrderBy(t => t.OnDemandPerHour).ThenBy(t => t.Vcpus).ThenBy(t => t.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        if (fitting is not null)
            return fitting;
        var largest = All.Where(t => t.Infra == infra).MaxBy(t => t.Vcpus)!;
        var key = resources.Cpus is not null && !All.Any(t => t.Infra == infra && CpusFit(t, resources.Cpus)) ? "cpus" : "memory";
        throw new ServiceSpecException($"{resourcesPath}.{key}",
            $"no {infra} machine type in the catalog has cpus {resources.Cpus ?? "(any)"} with memory {resources.Memory ?? "(any)"} (the largest is {largest}); "
            + "ask for less, use '+' for a minimum, or name the type in the tier's settings: {instance_type: TYPE}");
    }

    /// <summary>Whether <paramref name="type"/> satisfies what <paramref name="resources"/> asks.</summary>
    public static bool Fits(MachineType type, ResourcesSpec resources)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(resources);
        return (resources.Cpus is null || CpusFit(type, resources.Cpus)) && (resources.Memory is null || MemoryFits(type, resources.Memory));
    }

    private static bool CpusFit(MachineType type, string cpus) =>
        cpus.EndsWith('+') ? type.Vcpus >= Amount(cpus) : Math.Abs(type.Vcpus - Amount(cpus)) < 1e-9;

    private static bool MemoryFits(MachineType type, string memory) =>
        memory.EndsWith('x') ? type.MemoryGiB >= Amount(memory) * type.Vcpus - 1e-9
        : memory.EndsWith('+') ? type.MemoryGiB >= Amount(memory) - 1e-9
        : Math.Abs(type.MemoryGiB - Amount(memory)) < 1e-9;

    // The spec validator has checked the shape (digits, an optional fraction, then '+' or 'x').
    private static double Amount(string text) => double.Parse(text.TrimEnd('+', 'x'), NumberStyles.Float, CultureInfo.InvariantCulture);

    private static List<MachineType> Build()
    {
        var all = new List<MachineType>();
        // AWS: (family, GiB per vCPU, $/h per vCPU). m7a/r7a/c7a are AMD Zen 4, m7i/r7i/c7i Intel Sapphire Rapids:
        // all have AVX-512, which the engine's widest kernels use.
        foreach (var (family, gibPerVcpu, perVcpu) in new[]
        {
            ("m7a", 4.0, 0.05796), ("r7a", 8.0, 0.07607), ("c7a", 2.0, 0.051325),
            ("m7i", 4.0, 0.0504), ("r7i", 8.0, 0.06615), ("c7i", 2.0, 0.044625),
        })
        {
            foreach (var vcpus in AwsSizes)
                all.Add(new MachineType("aws", family + "." + AwsSize(vcpus), vcpus, gibPerVcpu * vcpus, Math.Round(perVcpu * vcpus, 5)));
        }

        // GCP: n2 (Intel, AVX-512) and n2d (AMD) in standard / highmem / highcpu shapes.
        foreach (var (family, gibPerVcpu, perVcpu) in new[]
        {
            ("n2-standard", 4.0, 0.048559), ("n2-highmem", 8.0, 0.065507), ("n2-highcpu", 1.0, 0.0358535),
            ("n2d-standard", 4.0, 0.042246), ("n2d-highmem", 8.0, 0.056987), ("n2d-highcpu", 1.0, 0.0311685),
        })
        {
            foreach (var vcpus in GcpSizes)
            {
                // n2-highmem and n2d-highmem stop at 128 and 96 vCPUs.
                if (family == "n2d-highmem" && vcpus > 96)
                    continue;
                all.Add(new MachineType("gcp", family + "-" + vcpus.ToString(CultureInfo.InvariantCulture), vcpus, gibPerVcpu * vcpus, Math.Round(perVcpu * vcpus, 5)));
            }
        }

        return all;
    }

    private static string AwsSize(int vcpus) => vcpus switch
    {
        2 => "large",
        4 => "xlarge",
        _ => (vcpus / 4).ToString(CultureInfo.InvariantCulture) + "xlarge",
    };
}
