namespace WrinkleFree.Service.Daemon;

/// <summary>The body of POST /services/{name}/update: a new min_replicas, or a whole new spec (exactly one).</summary>
public sealed record UpdateServiceRequest
{
    public int? MinReplicas { get; init; }

    public string? SpecYaml { get; init; }

    /// <summary>Where the YAML came from, for error messages.</summary>
    public string? SourceName { get; init; }
}
