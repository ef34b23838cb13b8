namespace WrinkleFree.Providers.Kubernetes.Tests.Support;

/// <summary>A fact that runs the real kubectl; skipped, naming what to install, only where kubectl cannot be found.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    /// <summary>kubectl as Debian's kubernetes-client installs it (or a manual install), or null.</summary>
    public static string? Path { get; } = new[] { "/usr/bin/kubectl", "/usr/local/bin/kubectl" }.FirstOrDefault(File.Exists);

    public KubectlFactAttribute()
    {
        if (Path is null)
            Skip = "kubectl not found at /usr/bin/kubectl or /usr/local/bin/kubectl: the test double goes unchecked by the real client; apt-get install kubernetes-client (.ci/run does)";
    }
}
