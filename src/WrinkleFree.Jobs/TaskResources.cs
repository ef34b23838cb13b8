namespace WrinkleFree.Jobs;

/// <summary>
/// SkyPilot's <c>resources:</c> as far as one machine can honour it: cpus, memory and accelerators are checked against this
/// machine (a job that cannot fit ends FAILED_NO_RESOURCE); cloud placement keys are accepted and have no effect locally.
/// </summary>
public sealed record TaskResources
{
    /// <summary>CPU count, <c>4</c> (exactly, treated as at least) or <c>4+</c> (at least).</summary>
    public string? Cpus { get; init; }

    /// <summary>Memory in GiB, <c>16</c> or <c>16+</c>.</summary>
    public string? Memory { get; init; }

    /// <summary>Accelerators as written (<c>H100:1</c>); checked against the GPUs nvidia-smi lists.</summary>
    public string? Accelerators { get; init; }

    /// <summary>Spot request; accepted for compatibility, no effect on one local machine.</summary>
    public bool? UseSpot { get; init; }
}
