namespace WrinkleFree.Service.Spec;

/// <summary>
/// The <c>resources:</c> section as SkyPilot writes it: what each replica needs. Providers read the fields that apply to them.
/// </summary>
public sealed record ResourcesSpec
{
    /// <summary>SkyPilot's infra selector, e.g. <c>aws/us-east-1</c>, <c>k8s</c> or <c>ssh/hetzner-base</c>.</summary>
    public string? Infra { get; init; }

    /// <summary>Legacy cloud selector (SkyPilot still accepts it next to <see cref="Infra"/>).</summary>
    public string? Cloud { get; init; }

    /// <summary>Legacy region selector.</summary>
    public string? Region { get; init; }

    /// <summary>Legacy zone selector.</summary>
    public string? Zone { get; init; }

    /// <summary>vCPUs: a count, or a minimum such as <c>8+</c>.</summary>
    public string? Cpus { get; init; }

    /// <summary>Memory in GB: an amount, a minimum such as <c>64+</c>, or a multiple of the vCPUs such as <c>4x</c>.</summary>
    public string? Memory { get; init; }

    /// <summary>Acceptable accelerators (any one of them); empty for CPU-only replicas.</summary>
    public IReadOnlyList<AcceleratorRequest> Accelerators { get; init; } = [];

    /// <summary>A specific instance type.</summary>
    public string? InstanceType { get; init; }

    /// <summary>Whether to use spot capacity; null when not said.</summary>
    public bool? UseSpot { get; init; }

    /// <summary>Recovery of preempted or failed machines (SkyPilot's replacement for <c>spot_recovery</c>).</summary>
    public JobRecoverySpec? JobRecovery { get; init; }

    /// <summary>Boot disk size in GB.</summary>
    public int? DiskSize { get; init; }

    /// <summary>Disk tier: low, medium, high, ultra or best.</summary>
    public string? DiskTier { get; init; }

    /// <summary>Ports opened on the replica machine.</summary>
    public IReadOnlyList<PortRange> Ports { get; init; } = [];

    /// <summary>Machine image.</summary>
    public string? ImageId { get; init; }

    /// <summary>Labels (cloud tags or pod labels).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>Alternatives, any one of which is acceptable; each overrides the fields above.</summary>
    public IReadOnlyList<ResourcesSpec> AnyOf { get; init; } = [];

    /// <summary>Alternatives tried in the order given.</summary>
    public IReadOnlyList<ResourcesSpec> Ordered { get; init; } = [];

    /// <inheritdoc />
    public bool Equals(ResourcesSpec? other) =>
        other is not null
        && Infra == other.Infra && Cloud == other.Cloud && Region == other.Region && Zone == other.Zone
        && Cpus == other.Cpus && Memory == other.Memory && InstanceType == other.InstanceType
        && UseSpot == other.UseSpot && JobRecovery == other.JobRecovery && DiskSize == other.DiskSize
        && DiskTier == other.DiskTier && ImageId == other.ImageId
        && SpecEquality.Lists(Accelerators, other.Accelerators)
        && SpecEquality.Lists(Ports, other.Ports)
        && SpecEquality.Maps(Labels, other.Labels)
        && SpecEquality.Lists(AnyOf, other.AnyOf)
        && SpecEquality.Lists(Ordered, other.Ordered);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Infra, Cpus, Memory, UseSpot, SpecEquality.ListHash(Ports));
}
