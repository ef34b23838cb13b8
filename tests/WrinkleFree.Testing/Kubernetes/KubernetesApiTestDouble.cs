using System.Globalization;
using System.Net;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WrinkleFree.Testing.Kubernetes;

/// <summary>
/// A Kubernetes API TEST DOUBLE: a Kestrel server on a random loopback port that speaks the real wire protocol (JSON
/// objects of KubernetesClient's model types, watch streams, the pods/log stream, the v4.channel.k8s.io portforward
/// WebSocket) for the subset the kubernetes provider and kubectl use. It is not a cluster: its "kubelet" runs each pod's
/// container as a local process or listener the test supplies (<see cref="Containers"/>), and test hooks evict pods,
/// take nodes away, hold readiness, forbid verbs (403 and SelfSubjectAccessReview answers) and expire watch history (410).
/// </summary>
public sealed partial class KubernetesApiTestDouble : IAsyncDisposable
{
    /// <summary>The bearer token the written kubeconfigs carry.</summary>
    public const string Token = "wf-test-token";

    private readonly object _gate = new();
    private readonly WebApplication _app;
    private readonly TempDirectory _folder = new("wf-k8s-double");
    private readonly HashSet<string> _namespaces = new(StringComparer.Ordinal);
    private readonly HashSet<string> _forbidden = new(StringComparer.Ordinal);
    private readonly HashSet<string> _notReadyNodes = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private long _resourceVersion = 100;

    private KubernetesApiTestDouble(WebApplication app) => _app = app;

    /// <summary>The API server's URL (http://127.0.0.1:PORT).</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Starts the runner's container for each pod the kubelet starts; null: pods stay Pending.</summary>
    public Func<PodContainerStart, IPodContainer>? Containers { get; set; }

    /// <summary>How long a started container waits before the pod reports Ready; null: the pod waits for <see cref="MarkReady"/>.</summary>
    public TimeSpan? ReadyAfter { get; set; } = TimeSpan.Zero;

    /// <summary>The nodes pods are placed on, in turn.</summary>
    public IReadOnlyList<string> Nodes { get; init; } = ["node-a", "node-b"];

    /// <summary>Requests served, as "VERB path?query", for tests that check what was (not) asked.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
                return [.. _requests];
        }
    }

    private readonly List<string> _requests = [];

    /// <summary>Starts the double on 127.0.0.1 with a random port, holding <paramref name="namespaces"/>.</summary>
    public static async Task<KubernetesApiTestDouble> StartAsync(params string[] namespaces)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var api = new KubernetesApiTestDouble(app);
        foreach (var ns in namespaces.Append("default"))
            api._namespaces.Add(ns);
        app.UseWebSockets();
        app.Run(api.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        api.Url = new Uri(address);
        return api;
    }

    /// <summary>Writes a kubeconfig whose context <paramref name="context"/> points at this double, and returns its path.</summary>
    public string WriteKubeconfig(string folder, string context = "double", string? defaultNamespace = null)
    {
        var path = Path.Combine(folder, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: double
              cluster:
                server: {Url.ToString().TrimEnd('/')}
            users:
            - name: wf-test
              user:
                token: {Token}
            contexts:
            - name: {context}
              context:
                cluster: double
                user: wf-test
                namespace: {defaultNamespace ?? "default"}
            current-context: {context}

            """);
        return path;
    }

    /// <summary>Refuses <paramref name="verb"/> on <paramref name="resource"/> (e.g. "pods/portforward"): 403 to the call, allowed false to access reviews.</summary>
    public void Forbid(string verb, string resource)
    {
        lock (_gate)
            _forbidden.Add(verb + " " + resource);
    }

    public void CreateNamespace(string name)
    {
        lock (_gate)
            _namespaces.Add(name);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        List<PodEntry> pods;
        lock (_gate)
            pods = [.. _pods.Values];
        foreach (var pod in pods)
        {
            if (pod.Container is { } container)
                await container.DisposeAsync();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
        _folder.Dispose();
    }

    private string NextVersion() => (++_resourceVersion).ToString(CultureInfo.InvariantCulture);

    private bool IsForbidden(string verb, string resource)
    {
        lock (_gate)
            return _forbidden.Contains(verb + " " + resource);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        lock (_requests)
            _requests.Add($"{request.Method} {request.Path}{request.QueryString}");
        var segments = request.Path.Value!.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        try
        {
            if (await DiscoveryAsync(context, segments))
                return;
            if (segments is ["apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews"] && request.Method == "POST")
            {
                await AccessReviewAsync(context);
                return;
            }

            if (segments is ["apis", "batch", "v1", "namespaces", var jobNs, "jobs", ..])
            {
                await BatchJobsAsync(context, jobNs, segments[6..]);
                return;
            }

            if (segments is ["api", "v1", "namespaces", var ns, ..])
            {
                await NamespacedAsync(context, ns, segments[4..]);
                return;
            }

            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"the server could not find the requested resource ({request.Path})");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
            // The client went away, or the double stops.
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            // A bug of the double shows in the test's failure, not as an empty 500.
                await WriteStatusAsync(context, HttpStatusCode.InternalServerError, "InternalError", "test double failed: " + e);
        }
    }

    private async Task NamespacedAsync(HttpContext context, string ns, string[] rest)
    {
        var method = context.Request.Method;
        bool known;
        lock (_gate)
            known = _namespaces.Contains(ns);
        if (rest.Length == 0)
        {
            if (await RefusedAsync(context, "get", "namespaces", ns, ns))
                return;
            if (!known)
            {
                await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"namespaces \"{ns}\" not found", "namespaces", ns);
                return;
            }

            await WriteJsonAsync(context, HttpStatusCode.OK, new V1Namespace
            {
                ApiVersion = "v1", Kind = "Namespace",
                Metadata = new V1ObjectMeta { Name = ns, Uid = Uid("ns/" + ns), CreationTimestamp = DateTime.UnixEpoch, ResourceVersion = "1" },
                Status = new V1NamespaceStatus { Phase = "Active" },
            });
            return;
        }

        var resource = rest[0];
        var name = rest.Length > 1 ? rest[1] : null;
        var sub = rest.Length > 2 ? rest[2] : null;
        var watch = context.Request.Query["watch"] is { Count: > 0 } w && w[0] is "true" or "1";
        var verb = (method, name, sub) switch
        {
            ("GET", null, _) => watch ? "watch" : "list",
            ("GET", _, "portforward") or ("POST", _, "portforward") => "create",
            ("GET", _, _) => "get",
            ("POST", _, _) => "create",
            ("DELETE", _, _) => "delete",
            _ => method.ToLowerInvariant(),
        };
        if (await RefusedAsync(context, verb, sub is null ? resource : resource + "/" + sub, ns, name))
            return;
        if (!known && method == "POST")
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"namespaces \"{ns}\" not found", "namespaces", ns);
            return;
        }

        switch (resource, name, sub, method)
        {
            case ("pods", null, _, "GET") when watch:
                await WatchPodsAsync(context, ns);
                return;
            case ("pods", null, _, "GET"):
                await ListPodsAsync(context, ns);
                return;
            case ("pods", null, _, "POST"):
                await CreatePodAsync(context, ns);
                return;
            case ("pods", not null, null, "GET"):
                await GetPodAsync(context, ns, name);
                return;
            case ("pods", not null, null, "DELETE"):
                await DeletePodAsync(context, ns, name);
                return;
            case ("pods", not null, "log", "GET"):
                await LogAsync(context, ns, name);
                return;
            case ("pods", not null, "portforward", _):
                await PortForwardAsync(context, ns, name);
                return;
            case ("secrets" or "services", null, _, "POST"):
                await CreateObjectAsync(context, ns, resource);
                return;
            case ("secrets" or "services", not null, null, "GET"):
                await GetObjectAsync(context, ns, resource, name);
                return;
            case ("events", null, _, "GET"):
                await WriteJsonAsync(context, HttpStatusCode.OK, new Corev1EventList { ApiVersion = "v1", Kind = "EventList", Items = [], Metadata = new V1ListMeta { ResourceVersion = Current() } });
                return;
        }

        await WriteStatusAsync(context, HttpStatusCode.MethodNotAllowed, "MethodNotAllowed", $"the test double does not serve {method} {context.Request.Path}");
    }

    private async Task<bool> RefusedAsync(HttpContext context, string verb, string resource, string? ns, string? name, string group = "")
    {
        if (!IsForbidden(verb, resource))
            return false;
        var slash = resource.IndexOf('/', StringComparison.Ordinal);
        var what = slash < 0 ? $"resource \"{resource}\"" : $"resource \"{resource[..slash]}/{resource[(slash + 1)..]}\"";
        await WriteStatusAsync(context, HttpStatusCode.Forbidden, "Forbidden",
            $"{resource}{(name is null ? "" : $" \"{name}\"")} is forbidden: User \"wf-test\" cannot {verb} {what} in API group \"{group}\"{(ns is null ? "" : $" in the namespace \"{ns}\"")}",
            slash < 0 ? resource : resource[..slash], name);
        return true;
    }

    private string Current()
    {
        lock (_gate)
            return _resourceVersion.ToString(CultureInfo.InvariantCulture);
    }

    private static string Uid(string seed) => new Guid(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(seed))).ToString();

    private static async Task WriteJsonAsync(HttpContext context, HttpStatusCode status, object value)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(value is V1Status s ? StatusJson(s) : KubernetesJson.Serialize(value), context.RequestAborted);
    }

    /// <summary>A Status as the API writes it (KubernetesClient reads Status objects but does not write them).</summary>
    private static string StatusJson(V1Status status) => new System.Text.Json.Nodes.JsonObject
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new System.Text.Json.Nodes.JsonObject(),
        ["status"] = status.Status,
        ["message"] = status.Message,
        ["reason"] = status.Reason,
        ["details"] = status.Details is null ? null : new System.Text.Json.Nodes.JsonObject { ["name"] = status.Details.Name, ["kind"] = status.Details.Kind },
        ["code"] = status.Code,
    }.ToJsonString();

    private static Task WriteStatusAsync(HttpContext context, HttpStatusCode code, string reason, string message, string? kind = null, string? name = null) =>
        WriteJsonAsync(context, code, StatusOf(code, reason, message, kind, name));

    private static V1Status StatusOf(HttpStatusCode code, string reason, string message, string? kind = null, string? name = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Status",
        Metadata = new V1ListMeta(),
        Status = "Failure",
        Message = message,
        Reason = reason,
        Code = (int)code,
        Details = kind is null && name is null ? null : new V1StatusDetails { Kind = kind, Name = name },
    };
}
