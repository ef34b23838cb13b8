using WrinkleFree.Service.Providers;

namespace WrinkleFree.Providers.Kubernetes.Pods;

/// <summary>What <see cref="ReplicaPodBuilder"/> makes a pod from: the launch request, the tier's settings and the provider's choices.</summary>
internal sealed record ReplicaPodInput
{
    public required ReplicaLaunchRequest Request { get; init; }

    public required KubernetesTierSettings Settings { get; init; }

    /// <summary>The port the container listens on (PORT).</summary>
    public required int ContainerPort { get; init; }

    /// <summary>How long a deleted pod may drain in-flight work before it is killed.</summary>
    public required TimeSpan DrainTimeout { get; init; }

    /// <summary>The environment the replica gets, before file variables are pointed at the mounted Secret.</summary>
    public required IReadOnlyDictionary<string, string> Envs { get; init; }

    /// <summary>Variables whose value is a file: they name the file of that key in the replica's Secret, mounted read-only.</summary>
    public IReadOnlyList<string> SecretFileVariables { get; init; } = [];

    /// <summary>Whether the replica serves mutual TLS (the kubelet then probes the port, as it has no client certificate).</summary>
    public bool Https { get; init; }

    /// <summary>In-cluster: the headless Service that gives the pod a DNS name (hostname = pod name); null when reached by port-forward.</summary>
    public string? Subdomain { get; init; }
}
