using System.Globalization;
using System.Net;
using k8s;
using k8s.Models;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Kubernetes;

public sealed partial class KubernetesProvider
{
    /// <summary>What the provider does in a tier's namespace, as (verb, resource, subresource).</summary>
    private static readonly (string Verb, string Resource, string? Subresource)[] PodVerbs =
    [
        ("create", "pods", null), ("get", "pods", null), ("list", "pods", null), ("watch", "pods", null), ("delete", "pods", null),
        ("get", "pods", "log"), ("create", "secrets", null),
    ];

    /// <inheritdoc />
    /// <remarks>
    /// Reads the kubeconfig and context, checks that the namespace exists, and asks the API (SelfSubjectAccessReview)
    /// whether each verb the provider uses is allowed there; a refusal names the verb and object and how to grant it.
    /// The room is the tier's written capacity: what a cluster autoscaler could add is not known from here.
    /// </remarks>
    public async Task<TierCapacity> CheckTierAsync(TierSpec tier, ResourcesSpec resources, string keyPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tier);
        var settings = KubernetesTierSettings.Parse(tier.Settings, keyPath);
        var connection = Connect(settings.Context, $"{keyPath}.context");
        var ns = settings.Namespace;
        var where = $"{KubernetesApiErrors.ContextName(connection.Context)}, API server {connection.Server}";
        try
        {
            await connection.Client.CoreV1.ReadNamespaceAsync(ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.NotFound))
        {
            throw new ServiceSpecException($"{keyPath}.namespace", $"namespace {ns} does not exist ({where}); create it: kubectl create namespace {ns}");
        }
        catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.Forbidden))
        {
            // Namespace-scoped roles rarely grant get on the namespace object itself; the access reviews below still
            // tell whether pods can be made there, and a missing namespace fails the first create naming it.
        }
        catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.Unauthorized))
        {
            throw new ServiceSpecException($"{keyPath}.context", $"the API server does not accept this kubeconfig's credentials ({where}): {KubernetesApiErrors.MessageOf(e)}; refresh them (e.g. your cloud's `get-credentials`)");
        }
        catch (HttpRequestException e)
        {
            throw new ServiceSpecException($"{keyPath}.context", $"cannot reach the API server ({where}): {e.Message}");
        }

        var verbs = connection.PortForward
            ? [.. PodVerbs, ("create", "pods", "portforward")]
            : PodVerbs.Concat([("create", "services", (string?)null), ("get", "services", null)]).ToArray();
        var refused = new List<string>();
        foreach (var (verb, resource, sub) in verbs)
        {
            if (!await AllowedAsync(connection, ns, verb, resource, sub, $"{keyPath}.namespace", cancellationToken).ConfigureAwait(false))
                refused.Add($"{verb} {resource}{(sub is null ? "" : "/" + sub)}");
        }

        if (refused.Count > 0)
        {
            var role = string.Join(" ", refused.Select(r => r.Split(' ')).GroupBy(r => r[0]).Select(g => $"--verb={g.Key} --resource={string.Join(",", g.Select(r => r[1]))}"));
            throw new ServiceSpecException($"{keyPath}.namespace",
                $"in namespace {ns} ({where}) this user may not: {string.Join("; ", refused)}; grant them with a Role and RoleBinding (kubectl create role wf-replicas -n {ns} ... {role}), see docs/deployment.md");
        }

        var room = new TierCapacity(tier.Capacity, tier.IsUnlimited
            ? $"namespace {ns} ({KubernetesApiErrors.ContextName(connection.Context)}), no capacity written: unlimited"
            : $"namespace {ns} ({KubernetesApiErrors.ContextName(connection.Context)}), {tier.Capacity.ToString(CultureInfo.InvariantCulture)} replicas as written");
        _capacity[tier.Name] = room;
        return room;
    }

    /// <inheritdoc />
    public TierCapacity? KnownCapacity(TierSpec tier, ResourcesSpec resources)
    {
        ArgumentNullException.ThrowIfNull(tier);
        return _capacity.GetValueOrDefault(tier.Name);
    }

    private static async Task<bool> AllowedAsync(ClusterConnection connection, string ns, string verb, string resource, string? subresource, string keyPath, CancellationToken cancellationToken)
    {
        var review = new V1SelfSubjectAccessReview
        {
            ApiVersion = "authorization.k8s.io/v1",
            Kind = "SelfSubjectAccessReview",
            Spec = new V1SelfSubjectAccessReviewSpec
            {
                ResourceAttributes = new V1ResourceAttributes { NamespaceProperty = ns, Verb = verb, Resource = resource, Subresource = subresource },
            },
        };
        try
        {
            var answer = await connection.Client.AuthorizationV1.CreateSelfSubjectAccessReviewAsync(review, cancellationToken: cancellationToken).ConfigureAwait(false);
            return answer.Status?.Allowed == true;
        }
        catch (Exception e) when (KubernetesApiErrors.StatusOf(e) is not null)
        {
            throw new ServiceSpecException(keyPath, $"cannot ask whether {verb} {resource}{(subresource is null ? "" : "/" + subresource)} is allowed in namespace {ns}: "
                + KubernetesApiErrors.Describe(e, "create", "selfsubjectaccessreviews.authorization.k8s.io", null, connection.Context).Message);
        }
    }
}
