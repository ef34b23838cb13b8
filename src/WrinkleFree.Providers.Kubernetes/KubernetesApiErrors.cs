using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace WrinkleFree.Providers.Kubernetes;

/// <summary>Reads what the API said in a failed call, to name the verb and object that were refused.</summary>
internal static class KubernetesApiErrors
{
    public static HttpStatusCode? StatusOf(Exception e) => e switch
    {
        HttpOperationException h => h.Response?.StatusCode,
        KubernetesException k when k.Status?.Code is { } code => (HttpStatusCode)code,
        _ => null,
    };

    public static bool Is(Exception e, HttpStatusCode status) => StatusOf(e) == status;

    /// <summary>The API's own message (a V1Status's message), or the exception's.</summary>
    public static string MessageOf(Exception e)
    {
        if (e is HttpOperationException { Response.Content: { Length: > 0 } body })
        {
            try
            {
                if (KubernetesJson.Deserialize<V1Status>(body) is { Message: { Length: > 0 } message })
                    return message;
            }
            catch (System.Text.Json.JsonException)
            {
                // Not a Status: the raw body says more than nothing.
                return body;
            }
        }

        return e.Message;
    }

    /// <summary>An exception naming the refused call: "kubernetes: create pods in namespace ns (context c) failed: 403 Forbidden: ...".</summary>
    public static InvalidOperationException Describe(Exception e, string verb, string resource, string? @namespace, string? context)
    {
        var status = StatusOf(e);
        var what = $"kubernetes: {verb} {resource}{(@namespace is null ? "" : $" in namespace {@namespace}")} ({ContextName(context)})";
        var hint = status switch
        {
            HttpStatusCode.Forbidden => $"; grant it with a Role bound to this user: kubectl create role wf-replicas --verb={verb} --resource={resource}{(@namespace is null ? "" : " -n " + @namespace)}",
            HttpStatusCode.Unauthorized => "; the kubeconfig's credentials are not accepted (expired token?)",
            HttpStatusCode.NotFound when @namespace is not null => $"; does namespace {@namespace} exist? kubectl create namespace {@namespace}",
            _ => "",
        };
        return new InvalidOperationException($"{what} failed: {(status is { } s ? $"{(int)s} {s}: " : "")}{MessageOf(e)}{hint}", e);
    }

    public static string ContextName(string? context) => context is null ? "the current context" : $"context {context}";
}
