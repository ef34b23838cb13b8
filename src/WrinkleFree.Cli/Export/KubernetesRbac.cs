using k8s.Models;

namespace WrinkleFree.Cli.Export;

/// <summary>
/// The one list of what the WrinkleFree daemon may do in its Kubernetes namespace. <c>wf export kubernetes</c> builds its
/// Role and ClusterRole from it, and a test holds deploy/kubernetes/rbac.yaml to it, so the two cannot drift.
/// </summary>
public static class KubernetesRbac
{
    /// <summary>API group of the RBAC objects.</summary>
    public const string RbacGroup = "rbac.authorization.k8s.io";

    /// <summary>Rules the namespaced Role grants, each the least the kubernetes provider needs.</summary>
    public static IReadOnlyList<Rule> NamespaceRules { get; } =
    [
        new("", "pods", ["create", "get", "list", "watch", "delete"], "one pod per replica: started, watched until ready, deleted on scale-down"),
        new("", "pods/log", ["get"], "`wf logs` of a replica pod"),
        new("", "pods/portforward", ["create", "get"], "the load balancer reaches a replica pod through a port-forward when pod IPs are not routable from it"),
        new("", "secrets", ["create", "get", "delete"], "each replica's TLS certificate and key, mounted into its pod as a Secret"),
        new("batch", "jobs", ["create", "get", "list", "watch", "delete"], "training runs of `wf jobs launch` as batch Jobs"),
    ];

    /// <summary>
    /// Rules that need a ClusterRole: a Namespace is not itself namespaced, so reading it (to check the namespace exists
    /// before the first pod) cannot be granted by a Role. Limited to the one namespace by resourceNames.
    /// </summary>
    public static IReadOnlyList<Rule> ClusterRules { get; } =
    [
        new("", "namespaces", ["get"], "check that the service's namespace exists before creating pods in it"),
    ];

    /// <summary>The rules as Kubernetes policy rules; <paramref name="resourceNames"/> limits each to named objects.</summary>
    public static List<V1PolicyRule> PolicyRules(IEnumerable<Rule> rules, IList<string>? resourceNames = null) =>
    [
        .. rules.Select(r => new V1PolicyRule
        {
            ApiGroups = [r.ApiGroup],
            Resources = [r.Resource],
            Verbs = [.. r.Verbs],
            ResourceNames = resourceNames is null ? null : [.. resourceNames],
        }),
    ];

    /// <summary>One RBAC rule: verbs on a resource of an API group ("" is the core group), and why the daemon needs them.</summary>
    public sealed record Rule(string ApiGroup, string Resource, IReadOnlyList<string> Verbs, string Why);
}
