namespace WrinkleFree.Jobs;

/// <summary>What <c>wf jobs launch</c>'s flags say about placement; each one set wins over the task file.</summary>
public sealed record JobLaunchFlags
{
    /// <summary><c>--infra</c>: local, k8s, kubernetes, k8s/CONTEXT.</summary>
    public string? Infra { get; init; }

    /// <summary><c>--context</c>: the kubeconfig context.</summary>
    public string? Context { get; init; }

    /// <summary><c>--namespace</c>: the namespace of the Job.</summary>
    public string? Namespace { get; init; }

    /// <summary><c>--image</c>: the container image.</summary>
    public string? Image { get; init; }
}
