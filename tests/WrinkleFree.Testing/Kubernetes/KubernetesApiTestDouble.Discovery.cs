using System.Net;
using k8s.Models;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Testing.Kubernetes;

public sealed partial class KubernetesApiTestDouble
{
    /// <summary>
    /// The discovery documents kubectl reads before a get or describe: /version, /api, /apis and the resource lists of
    /// the groups served. Plain JSON answers tell kubectl there is no aggregated discovery, so it uses these.
    /// </summary>
    private async Task<bool> DiscoveryAsync(HttpContext context, string[] segments)
    {
        if (context.Request.Method != "GET")
            return false;
        object? document = segments switch
        {
            ["version"] => new VersionInfo
            {
                Major = "1", Minor = "32", GitVersion = "v1.32.0-wf-test-double", GitCommit = "0000000", GitTreeState = "clean",
                BuildDate = "2026-01-01T00:00:00Z", GoVersion = "go1.23", Compiler = "gc", Platform = "linux/amd64",
            },
            ["api"] => new V1APIVersions
            {
                Kind = "APIVersions", Versions = ["v1"],
                ServerAddressByClientCIDRs = [new V1ServerAddressByClientCIDR { ClientCIDR = "0.0.0.0/0", ServerAddress = Url.Authority }],
            },
            ["apis"] => new V1APIGroupList
            {
                ApiVersion = "v1", Kind = "APIGroupList",
                Groups =
                [
                    new V1APIGroup
                    {
                        Name = "authorization.k8s.io",
                        Versions = [new V1GroupVersionForDiscovery { GroupVersion = "authorization.k8s.io/v1", Version = "v1" }],
                        PreferredVersion = new V1GroupVersionForDiscovery { GroupVersion = "authorization.k8s.io/v1", Version = "v1" },
                    },
                ],
            },
            ["api", "v1"] => new V1APIResourceList
            {
                ApiVersion = "v1", Kind = "APIResourceList", GroupVersion = "v1",
                Resources =
                [
                    Resource("namespaces", "namespace", "Namespace", namespaced: false, ["get", "list"], ["ns"]),
                    Resource("pods", "pod", "Pod", namespaced: true, ["create", "delete", "get", "list", "watch"], ["po"]),
                    Resource("pods/log", "", "Pod", namespaced: true, ["get"], null),
                    Resource("pods/portforward", "", "PodPortForwardOptions", namespaced: true, ["create", "get"], null),
                    Resource("secrets", "secret", "Secret", namespaced: true, ["create", "get"], null),
                    Resource("services", "service", "Service", namespaced: true, ["create", "get"], ["svc"]),
                    Resource("events", "event", "Event", namespaced: true, ["list"], ["ev"]),
                ],
            },
            ["apis", "authorization.k8s.io", "v1"] => new V1APIResourceList
            {
                ApiVersion = "v1", Kind = "APIResourceList", GroupVersion = "authorization.k8s.io/v1",
                Resources = [Resource("selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview", namespaced: false, ["create"], null)],
            },
            _ => null,
        };
        if (document is null)
            return false;
        await WriteJsonAsync(context, HttpStatusCode.OK, document);
        return true;
    }

    private static V1APIResource Resource(string name, string singular, string kind, bool namespaced, List<string> verbs, List<string>? shortNames) => new()
    {
        Name = name, SingularName = singular, Kind = kind, Namespaced = namespaced, Verbs = verbs, ShortNames = shortNames,
    };

    /// <summary>Answers what the forbidden list says: every verb not forbidden is allowed.</summary>
    private async Task AccessReviewAsync(HttpContext context)
    {
        if (await RefusedAsync(context, "create", "selfsubjectaccessreviews", null, null))
            return;
        var review = await ReadBodyAsync<V1SelfSubjectAccessReview>(context);
        var attributes = review.Spec.ResourceAttributes;
        var resource = attributes.Subresource is { Length: > 0 } sub ? attributes.Resource + "/" + sub : attributes.Resource;
        var allowed = !IsForbidden(attributes.Verb, resource);
        review.Status = new V1SubjectAccessReviewStatus
        {
            Allowed = allowed,
            Reason = allowed ? "allowed by the test double" : $"the test double forbids {attributes.Verb} {resource}",
        };
        await WriteJsonAsync(context, HttpStatusCode.Created, review);
    }

    private static async Task<T> ReadBodyAsync<T>(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        return k8s.KubernetesJson.Deserialize<T>(await reader.ReadToEndAsync(context.RequestAborted));
    }
}
