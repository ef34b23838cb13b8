namespace WrinkleFree.Cli.Export;

/// <summary>What <c>wf export kubernetes</c> produced for one service: the manifests in apply order, and notes for the admin.</summary>
public sealed record KubernetesExport
{
    /// <summary>The service name (the <c>wrinklefree/service</c> label's value).</summary>
    public required string Service { get; init; }

    /// <summary>The namespace every namespaced object is in.</summary>
    public required string Namespace { get; init; }

    /// <summary>The port of the endpoint and of its Service.</summary>
    public required int EndpointPort { get; init; }

    /// <summary>The objects, in the order they must be applied (namespace first).</summary>
    public required IReadOnlyList<KubernetesManifest> Manifests { get; init; }

    /// <summary>What the admin should know before applying: rewrites made, defaults taken, what needs doing by hand.</summary>
    public required IReadOnlyList<string> Notes { get; init; }
}
