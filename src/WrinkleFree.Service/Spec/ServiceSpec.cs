namespace WrinkleFree.Service.Spec;

/// <summary>
/// A parsed service YAML: SkyPilot's task fields and <c>service:</c> section plus our <c>tiers:</c>. Build one with
/// <see cref="ServiceSpecParser"/>, or in code followed by <see cref="Validate"/>.
/// </summary>
public sealed record ServiceSpec
{
    /// <summary>Service name; null when the YAML gives none (the CLI's --name or a generated one applies).</summary>
    public string? Name { get; init; }

    /// <summary>Probing, autoscaling and load balancing.</summary>
    public ServiceSection Service { get; init; } = new();

    /// <summary>What each replica needs.</summary>
    public ResourcesSpec Resources { get; init; } = new();

    /// <summary>Environment variables of the replica's setup and run commands.</summary>
    public IReadOnlyDictionary<string, string> Envs { get; init; } = new Dictionary<string, string>();

    /// <summary>Shell commands run once on a new replica machine before <see cref="Run"/>.</summary>
    public string? Setup { get; init; }

    /// <summary>Shell commands that start the replica server (it must listen on $PORT).</summary>
    public string? Run { get; init; }

    /// <summary>Files or buckets mounted on the replica: destination path to source (a string or a storage map).</summary>
    public IReadOnlyDictionary<string, object?> FileMounts { get; init; } = new Dictionary<string, object?>();

    /// <summary>Local directory synced to the replica's working directory.</summary>
    public string? Workdir { get; init; }

    /// <summary>Cost-ordered capacity pools, in declared order; one unlimited free local tier when the YAML has none.</summary>
    public IReadOnlyList<TierSpec> Tiers { get; init; } = [TierSpec.DefaultLocal];

    /// <summary>Checks values and cross-field rules; throws <see cref="ServiceSpecException"/> naming the key path.</summary>
    public void Validate() => SpecValidator.Validate(this);

    /// <summary>Writes the spec as YAML that <see cref="ServiceSpecParser.Parse"/> reads back into an equal spec.</summary>
    public string ToYaml() => SpecYamlWriter.Write(this);

    /// <inheritdoc />
    public bool Equals(ServiceSpec? other) =>
        other is not null
        && Name == other.Name && Service == other.Service && Resources == other.Resources
        && Setup == other.Setup && Run == other.Run && Workdir == other.Workdir
        && SpecEquality.Maps(Envs, other.Envs)
        && SpecEquality.Maps(FileMounts, other.FileMounts)
        && SpecEquality.Lists(Tiers, other.Tiers);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Service, Resources, Run, SpecEquality.MapHash(Envs), SpecEquality.ListHash(Tiers));
}
