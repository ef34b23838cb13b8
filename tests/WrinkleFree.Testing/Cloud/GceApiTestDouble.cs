using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Testing.Cloud;

/// <summary>
/// A Compute Engine API TEST DOUBLE: Kestrel on a random loopback port serving the v1 REST calls the gcp compute client
/// makes (instances insert/get/list/aggregatedList/delete, zoneOperations get/list) with GCE's JSON shapes and error
/// bodies. Operations move PENDING → RUNNING → DONE one step per GET, so a client that does not poll never sees its
/// instance. Test hooks inject capacity/quota errors per zone, preempt Spot instances (TERMINATED or deleted, with the
/// compute.instances.preempted operation GCE records), set statuses, and run a booted instance as a local process
/// (<see cref="Runner"/>), whose loopback address becomes the instance's networkIP, with its own metadata server
/// whose instance/preempted turns TRUE on preemption.
/// </summary>
public sealed partial class GceApiTestDouble : IAsyncDisposable
{
    /// <summary>How GCE itself writes selfLinks and targetLinks, whichever endpoint was called.</summary>
    public const string LinkRoot = "https://www.googleapis.com/compute/v1/";

    private readonly object _gate = new();
    private readonly WebApplication _app;
    private readonly List<string> _requests = [];
    private readonly List<string?> _authorizations = [];
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private int _failNext;
    private (HttpStatusCode Status, string Reason) _failWith;

    private GceApiTestDouble(WebApplication app, string project, IReadOnlyList<string> zones, TimeProvider time)
    {
        _app = app;
        Project = project;
        Zones = zones;
        _time = time;
    }

    public string Project { get; }

    /// <summary>The zones that exist; a call for another zone gets 404 like an unknown zone on GCE.</summary>
    public IReadOnlyList<string> Zones { get; }

    /// <summary>The API root (http://127.0.0.1:PORT/): what the client's endpoint setting or WF_GCE_ENDPOINT names.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>When set, every call must carry "Authorization: Bearer TOKEN", else 401 UNAUTHENTICATED.</summary>
    public string? RequiredToken { get; set; }

    /// <summary>Items per list page (instances.list, zoneOperations.list); small values make clients follow nextPageToken.</summary>
    public int PageSize { get; set; } = 500;

    /// <summary>Starts a process for each instance whose insert finishes; null: instances get a 10.128.0.x address and run nothing.</summary>
    public Func<GceInstanceStart, CancellationToken, Task<GceRunningInstance>>? Runner { get; set; }

    /// <summary>Requests served, as "METHOD path?query" (query decoded), for tests that check what was (not) asked.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
                return [.. _requests];
        }
    }

    /// <summary>The Authorization header of each request in <see cref="Requests"/> (null when absent).</summary>
    public IReadOnlyList<string?> Authorizations
    {
        get
        {
            lock (_requests)
                return [.. _authorizations];
        }
    }

    /// <summary>The next <paramref name="count"/> calls (of any kind) fail with <paramref name="status"/> and <paramref name="reason"/>, as GCE's transient 503 backendError / 429 rateLimitExceeded do.</summary>
    public void FailNextRequests(int count, HttpStatusCode status = HttpStatusCode.ServiceUnavailable, string reason = "backendError")
    {
        lock (_gate)
        {
            _failNext = count;
            _failWith = (status, reason);
        }
    }

    /// <summary>Starts the double for <paramref name="project"/> with the given zones (default us-central1-a/b/c, europe-west4-a).</summary>
    public static async Task<GceApiTestDouble> StartAsync(string project = "wf-test-project", IReadOnlyList<string>? zones = null, TimeProvider? time = null)
    {
        GceApiTestDouble? api = null;
        var (_, url) = await LoopbackHost.StartAsync(app =>
            (api = new GceApiTestDouble(app, project, zones ?? ["us-central1-a", "us-central1-b", "us-central1-c", "europe-west4-a"], time ?? TimeProvider.System)).HandleAsync);
        api!.Url = url;
        return api;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        List<IAsyncDisposable> processes;
        lock (_gate)
        {
            processes = [.. _instances.Values.Select(i => i.Process).OfType<IAsyncDisposable>()];
            foreach (var instance in _instances.Values)
                instance.Process = null;
        }

        foreach (var process in processes)
            await process.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string? authorization = request.Headers.Authorization.Count > 0 ? request.Headers.Authorization.ToString() : null;
        lock (_requests)
        {
            _requests.Add($"{request.Method} {request.Path}{Uri.UnescapeDataString(request.QueryString.Value ?? "")}");
            _authorizations.Add(authorization);
        }

        try
        {
            // The VMs' metadata servers take no OAuth token, like metadata.google.internal.
            if (request.Path.Value!.Trim('/').Split('/') is ["metadata", var metadataZone, var metadataName, .. var metadataPath])
            {
                await MetadataAsync(context, metadataZone, metadataName, metadataPath);
                return;
            }

            if (RequiredToken is { } token && authorization != "Bearer " + token)
            {
                await WriteErrorAsync(context, HttpStatusCode.Unauthorized, "required",
                    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                    status: "UNAUTHENTICATED");
                return;
            }

            (HttpStatusCode Status, string Reason)? fail = null;
            lock (_gate)
            {
                if (_failNext > 0)
                {
                    _failNext--;
                    fail = _failWith;
                }
            }

            if (fail is { } f)
            {
                await WriteErrorAsync(context, f.Status, f.Reason, "Internal error. Please try again or contact Google Support.");
                return;
            }

            var segments = request.Path.Value!.Trim('/').Split('/');
            if (segments is not ["compute", "v1", "projects", var project, ..] || project != Project)
            {
                await WriteErrorAsync(context, HttpStatusCode.NotFound, "notFound", $"The resource '{request.Path}' was not found");
                return;
            }

            await RouteAsync(context, request.Method, segments[4..]);
        }
        catch (FormatException e)
        {
            await WriteErrorAsync(context, HttpStatusCode.BadRequest, "invalid", e.Message);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            // A bug of the double shows in the test's failure, not as an empty 500.
            await WriteErrorAsync(context, HttpStatusCode.InternalServerError, "backendError", "test double failed: " + e);
        }
    }

    private async Task RouteAsync(HttpContext context, string method, string[] rest)
    {
        switch (rest)
        {
            case ["aggregated", "instances"] when method == "GET":
                await AggregatedListAsync(context);
                return;
            case ["zones", var zone, ..] when !Zones.Contains(zone):
                await WriteErrorAsync(context, HttpStatusCode.NotFound, "notFound", $"The resource 'projects/{Project}/zones/{zone}' was not found");
                return;
            case ["zones", var zone, "instances"] when method == "POST":
                await InsertAsync(context, zone);
                return;
            case ["zones", var zone, "instances"] when method == "GET":
                await ListAsync(context, zone);
                return;
            case ["zones", var zone, "instances", var name] when method == "GET":
                await GetAsync(context, zone, name);
                return;
            case ["zones", var zone, "instances", var name] when method == "DELETE":
                await DeleteAsync(context, zone, name);
                return;
            case ["zones", var zone, "operations"] when method == "GET":
                await ListOperationsAsync(context, zone);
                return;
            case ["zones", var zone, "operations", var name] when method == "GET":
                await GetOperationAsync(context, zone, name);
                return;
            default:
                await WriteErrorAsync(context, HttpStatusCode.NotFound, "notFound", $"the double does not serve {method} {context.Request.Path}");
                return;
        }
    }

    private static Task WriteJsonAsync(HttpContext context, JsonNode body, HttpStatusCode status = HttpStatusCode.OK)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    /// <summary>GCE's error body: {"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}.</summary>
    private static Task WriteErrorAsync(HttpContext context, HttpStatusCode code, string reason, string message, string domain = "global", string? status = null)
    {
        var error = new JsonObject
        {
            ["code"] = (int)code,
            ["message"] = message,
            ["errors"] = new JsonArray(new JsonObject { ["message"] = message, ["domain"] = domain, ["reason"] = reason }),
        };
        if (status is not null)
            error["status"] = status;
        return WriteJsonAsync(context, new JsonObject { ["error"] = error }, code);
    }

    private string Timestamp() => _time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fffK", System.Globalization.CultureInfo.InvariantCulture);

    private string ZoneLink(string zone) => $"{LinkRoot}projects/{Project}/zones/{zone}";

    private static string RegionOf(string zone) => zone[..zone.LastIndexOf('-')];
}
