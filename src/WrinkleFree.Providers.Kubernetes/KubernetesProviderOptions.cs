namespace WrinkleFree.Providers.Kubernetes;

/// <summary>How the kubernetes provider finds its cluster and reaches its pods.</summary>
public sealed record KubernetesProviderOptions
{
    /// <summary>The kubeconfig file; null: KUBECONFIG (its first file), else ~/.kube/config.</summary>
    public string? KubeconfigPath { get; init; }

    /// <summary>
    /// Whether the daemon runs inside the cluster (service account token, pods reached on their DNS names); null: detect
    /// it from KUBERNETES_SERVICE_HOST, for tiers that name no <c>context</c>.
    /// </summary>
    public bool? InCluster { get; init; }

    /// <summary>
    /// Reach pods on their DNS names (the balancer runs where cluster DNS and pod addresses resolve) rather than through
    /// a port-forward; null: when the daemon runs in the cluster.
    /// </summary>
    public bool? ReachPodsDirectly { get; init; }

    /// <summary>The port replicas listen on inside their pod.</summary>
    public int ContainerPort { get; init; } = 8080;

    /// <summary>How long a deleted pod may drain before it is killed (its terminationGracePeriodSeconds, less the preStop pause).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Pause before relisting after the watch failed (API unreachable).</summary>
    public TimeSpan WatchRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The environment the provider reads (KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST); tests pass their own.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>Whether the API is reached with the pod's service account (the daemon inside the cluster, no context written).</summary>
    internal bool UsesInClusterAccount(string? context) => InCluster ?? (context is null && !string.IsNullOrEmpty(Environment("KUBERNETES_SERVICE_HOST")));

    /// <summary>Whether pods are reached by a loopback port-forward through the API (the daemon outside the cluster).</summary>
    internal bool PortForward(string? context) => !(ReachPodsDirectly ?? UsesInClusterAccount(context));

    /// <summary>The kubeconfig to read when outside the cluster.</summary>
    internal string Kubeconfig() =>
        KubeconfigPath
        ?? (Environment("KUBECONFIG") is { Length: > 0 } list ? list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)[0] : null)
        ?? Path.Combine(Environment("HOME") ?? System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".kube", "config");
}
