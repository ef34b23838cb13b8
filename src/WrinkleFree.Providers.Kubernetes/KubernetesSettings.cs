namespace WrinkleFree.Providers.Kubernetes;

/// <summary>The tier settings a <c>provider: kubernetes</c> tier may write (issue 14); anything else is an error naming it.</summary>
public static class KubernetesSettings
{
    /// <summary>Every settings key the provider reads.</summary>
    public static readonly IReadOnlyList<string> Keys =
        ["context", "namespace", "image", "node_selector", "tolerations", "service_account", "image_pull_secrets", "model"];
}
