namespace WrinkleFree.Cli.Export;

/// <summary>What <c>wf export kubernetes</c> was asked for beyond the spec; each is validated by <see cref="KubernetesManifests"/>.</summary>
public sealed record KubernetesExportOptions
{
    /// <summary>The image the daemon runs when <c>--image</c> is not given (built from deploy/kubernetes/Dockerfile).</summary>
    public const string DefaultImage = "wrinklefree/wf:latest";

    /// <summary>The namespace when neither <c>--namespace</c> nor a kubernetes tier's <c>settings.namespace</c> names one.</summary>
    public const string DefaultNamespace = "wrinklefree";

    /// <summary>The endpoint port when neither the spec's <c>service.load_balancer.port</c> nor <c>--endpoint-port</c> fixes one.</summary>
    public const int DefaultEndpointPort = 8000;

    /// <summary><c>--namespace</c>; null: the first kubernetes tier's <c>settings.namespace</c>, else <see cref="DefaultNamespace"/>.</summary>
    public string? Namespace { get; init; }

    /// <summary><c>--image</c>; null: <see cref="DefaultImage"/>.</summary>
    public string? Image { get; init; }

    /// <summary><c>--name</c>: the service name; null: the spec's <c>name:</c>, else the spec file's name.</summary>
    public string? Name { get; init; }

    /// <summary><c>--endpoint-port</c>, for a spec that does not fix <c>service.load_balancer.port</c>.</summary>
    public int? EndpointPort { get; init; }

    /// <summary><c>--storage</c>: the size of the daemon's WF_HOME volume, a Kubernetes quantity.</summary>
    public string Storage { get; init; } = "10Gi";

    /// <summary><c>--force</c>: the daemon's <c>wf up</c> runs with --force (checks that would refuse become warnings).</summary>
    public bool Force { get; init; }
}
