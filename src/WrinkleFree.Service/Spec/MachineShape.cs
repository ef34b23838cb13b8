using System.Globalization;

namespace WrinkleFree.Service.Spec;

/// <summary>
/// What one machine of a tier has, for checking <c>resources.cpus</c> and <c>resources.memory</c> against it. The local
/// tier's machine is this one (<see cref="Current"/>); tests pass a made-up one.
/// </summary>
/// <param name="Cores">Logical CPUs.</param>
/// <param name="MemoryGiB">Total memory in GiB (SkyPilot's memory unit).</param>
public sealed record MachineShape(int Cores, double MemoryGiB)
{
    private static readonly Lazy<MachineShape> This = new(Read);

    /// <summary>This machine: <see cref="Environment.ProcessorCount"/> and MemTotal from /proc/meminfo.</summary>
    public static MachineShape Current => This.Value;

    private static MachineShape Read()
    {
        double memory = 0;
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            if (line?.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var kb, ..]
                && long.TryParse(kb, NumberStyles.Integer, CultureInfo.InvariantCulture, out var total))
            {
                memory = total / (1024.0 * 1024.0);
            }
        }
        catch (IOException)
        {
            // No /proc/meminfo: memory is unknown (0), and a memory request is then not checked (see ResourceFit).
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }

        return new MachineShape(Environment.ProcessorCount, memory);
    }
}
