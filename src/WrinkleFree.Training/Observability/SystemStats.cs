namespace WrinkleFree.Training.Observability;

/// <summary>Resource use at one instant: the process's CPU and RSS, and the first GPU's figures when nvidia-smi is present.</summary>
public sealed record SystemStats
{
    /// <summary>Process CPU use since the previous sample, in percent of one core.</summary>
    public double CpuPercent { get; init; }

    /// <summary>Resident set size of the process in bytes.</summary>
    public long RssBytes { get; init; }

    /// <summary>GPU utilisation in percent, or null without a GPU.</summary>
    public double? GpuUtilizationPercent { get; init; }

    /// <summary>GPU memory in use in MiB, or null without a GPU.</summary>
    public double? GpuMemoryUsedMiB { get; init; }

    /// <summary>GPU memory in total in MiB, or null without a GPU.</summary>
    public double? GpuMemoryTotalMiB { get; init; }
}
