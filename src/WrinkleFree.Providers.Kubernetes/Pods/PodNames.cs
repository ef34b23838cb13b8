using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace WrinkleFree.Providers.Kubernetes.Pods;

/// <summary>
/// Deterministic names and labels of a replica's Kubernetes objects: the same service and replica id always make the
/// same pod name, which is what makes a launch create-or-get.
/// </summary>
internal static class PodNames
{
    public const string ServiceLabel = "wrinklefree/service";
    public const string ReplicaLabel = "wrinklefree/replica";
    public const string VersionLabel = "wrinklefree/version";
    public const string TierLabel = "wrinklefree/tier";

    /// <summary>Every pod this provider creates carries the service label: one watch per namespace sees them all.</summary>
    public const string Selector = ServiceLabel;

    /// <summary>
    /// <c>wf-SERVICE-ID</c>, a DNS label (it is also the pod's hostname, at most 63 characters). A service name that had
    /// to be changed to fit (upper case, '_', '.') gets a hash of the original, so two such names never share pods.
    /// </summary>
    public static string Pod(string service, int replicaId)
    {
        var id = replicaId.ToString(CultureInfo.InvariantCulture);
        var label = new StringBuilder(service.Length);
        foreach (var c in service.ToLowerInvariant())
            label.Append(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) ? c : '-');
        var cleaned = label.ToString().Trim('-');
        var suffix = cleaned == service ? "" : "-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(service)))[..6];
        var room = 63 - "wf-".Length - suffix.Length - 1 - id.Length;
        if (cleaned.Length > room)
        {
            cleaned = cleaned[..room].TrimEnd('-');
            suffix = suffix.Length > 0 ? suffix : "-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(service)))[..6];
            room = 63 - "wf-".Length - suffix.Length - 1 - id.Length;
            cleaned = cleaned.Length > room ? cleaned[..room].TrimEnd('-') : cleaned;
        }

        return $"wf-{(cleaned.Length == 0 ? "svc" : cleaned)}{suffix}-{id}";
    }

    /// <summary>The Secret holding a replica's files (TLS certificate and key, API key file), deleted with its pod.</summary>
    public static string FilesSecret(string podName) => podName + "-files";

    /// <summary>The headless Service that gives an in-cluster service's pods DNS names (<c>POD.wf-SERVICE.NS.svc</c>).</summary>
    public static string HeadlessService(string service) => Pod(service, 0)[..^2];

    /// <summary>A label of <paramref name="pod"/>, or null.</summary>
    public static string? LabelOf(k8s.Models.V1Pod pod, string label) =>
        pod.Metadata?.Labels is { } labels && labels.TryGetValue(label, out var value) ? value : null;

    /// <summary>The labels of a replica's pod.</summary>
    public static Dictionary<string, string> Labels(string service, int replicaId, int version, string tier) => new(StringComparer.Ordinal)
    {
        [ServiceLabel] = service,
        [ReplicaLabel] = replicaId.ToString(CultureInfo.InvariantCulture),
        [VersionLabel] = version.ToString(CultureInfo.InvariantCulture),
        [TierLabel] = tier,
    };
}
