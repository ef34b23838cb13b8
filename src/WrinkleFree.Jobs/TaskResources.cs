namespace WrinkleFree.Jobs;

/// <summary>
/// SkyPilot's <c>resources:</c>: cpus, memory and accelerators are checked against this machine for a local job (one that
/// cannot fit ends FAILED_NO_RESOURCE) and become the pod's requests on kubernetes. <c>infra</c> picks where the job runs
/// (<see cref="JobPlacement"/>); other cloud placement keys are accepted so the file can go to SkyPilot unchanged.
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

    /// <summary>SkyPilot's <c>infra</c> as written (<c>k8s</c>, <c>k8s/CONTEXT</c>, <c>aws/us-east-1</c>); <see cref="JobPlacement"/> decides whether wf jobs can run it.</summary>
    public string? Infra { get; init; }

    /// <summary>SkyPilot's <c>image_id</c> (<c>docker:IMAGE</c> or IMAGE): the container image of a kubernetes job.</summary>
    public string? ImageId { get; init; }
}
