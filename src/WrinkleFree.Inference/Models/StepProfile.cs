using System.Diagnostics;

namespace WrinkleFree.Inference.Models;

/// <summary>
/// Wall time per <see cref="StepPhase"/> accumulated over the steps of a <see cref="ModelRunner"/> that has it attached
/// (for the bench's breakdown; a runner without one takes no timestamps).
/// </summary>
public sealed class StepProfile
{
    private readonly long[] _ticks = new long[Enum.GetValues<StepPhase>().Length];

    /// <summary>Steps timed since the last <see cref="Reset"/>.</summary>
    public int Steps { get; internal set; }

    /// <summary>Total milliseconds spent in <paramref name="phase"/>.</summary>
    public double Milliseconds(StepPhase phase) => _ticks[(int)phase] * 1000.0 / Stopwatch.Frequency;

    /// <summary>Total milliseconds over all phases.</summary>
    public double TotalMilliseconds => _ticks.Sum() * 1000.0 / Stopwatch.Frequency;

    public void Reset()
    {
        Array.Clear(_ticks);
        Steps = 0;
    }

    /// <summary>Adds the time since <paramref name="since"/> to <paramref name="phase"/> and returns the current timestamp.</summary>
    internal long Lap(StepPhase phase, long since)
    {
        var now = Stopwatch.GetTimestamp();
        _ticks[(int)phase] += now - since;
        return now;
    }
}
