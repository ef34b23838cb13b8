namespace WrinkleFree.Service.Daemon;

/// <summary>The body of POST /services: the spec's YAML and an optional name (else the spec's <c>name:</c>).</summary>
public sealed record CreateServiceRequest
{
    public string? Name { get; init; }

    public required string SpecYaml { get; init; }

    /// <summary>Where the YAML came from, for error messages.</summary>
    public string? SourceName { get; init; }

    /// <summary>`wf up --force`: the plan checks a user may overrule (resources, use_spot, providers, keys) only warn.</summary>
    public bool Force { get; init; }
}
