using System.Globalization;

namespace WrinkleFree.Service.Spec;

/// <summary>
/// What <c>resources.cpus</c> and <c>resources.memory</c> ask of one replica, and how many such replicas fit a machine.
/// <c>8</c> and <c>8+</c> both need 8 (a replica is given what it asked for, on a machine with at least that much);
/// memory <c>4x</c> is 4 GiB per requested CPU (per CPU of one core when cpus is not given).
/// </summary>
public static class ResourceFit
{
    /// <summary>CPUs one replica needs, or null when <c>resources.cpus</c> is not given.</summary>
    public static double? Cpus(ResourcesSpec resources) => resources.Cpus is { } cpus ? Amount(cpus) : null;

    /// <summary>GiB one replica needs, or null when <c>resources.memory</c> is not given.</summary>
    public static double? MemoryGiB(ResourcesSpec resources) => resources.Memory switch
    {
        null => null,
        var perCpu when perCpu.EndsWith('x') => Amount(perCpu) * (Cpus(resources) ?? 1),
        var memory => Amount(memory),
    };

    /// <summary>Replicas of this shape that fit on <paramref name="machine"/>; <see cref="int.MaxValue"/> when nothing is asked.</summary>
    public static int Replicas(ResourcesSpec resources, MachineShape machine) => Math.Min(ByCpus(resources, machine), ByMemory(resources, machine));

    /// <summary>Replicas that fit by CPUs alone.</summary>
    public static int ByCpus(ResourcesSpec resources, MachineShape machine) =>
        Cpus(resources) is { } cpus && cpus > 0 ? Floor(machine.Cores / cpus) : int.MaxValue;

    /// <summary>Replicas that fit by memory alone; unlimited when the machine's memory is unknown (0).</summary>
    public static int ByMemory(ResourcesSpec resources, MachineShape machine) =>
        MemoryGiB(resources) is { } memory && memory > 0 && machine.MemoryGiB > 0 ? Floor(machine.MemoryGiB / memory) : int.MaxValue;

    /// <summary>Engine threads for a replica asking for <c>resources.cpus</c>: the CPUs asked for, at least 1, at most the machine's.</summary>
    public static int? Threads(ResourcesSpec resources, MachineShape? machine) =>
        Cpus(resources) is not { } cpus ? null
        : Math.Max(1, Math.Min((int)Math.Ceiling(cpus), machine?.Cores ?? int.MaxValue));

    /// <summary>"16 cores" / "256 GiB": the amount a request needs, for messages.</summary>
    public static string Describe(double amount, string unit) => amount.ToString("0.##", CultureInfo.InvariantCulture) + " " + unit;

    private static int Floor(double ratio) => ratio >= int.MaxValue ? int.MaxValue : (int)Math.Floor(ratio + 1e-9);

    // The validator has checked the shape (digits, an optional fraction, then '+' or 'x').
    private static double Amount(string text) => double.Parse(text.TrimEnd('+', 'x'), NumberStyles.Float, CultureInfo.InvariantCulture);
}
