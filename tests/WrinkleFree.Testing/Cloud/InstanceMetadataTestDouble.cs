using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Testing.Cloud;

/// <summary>
/// An instance metadata TEST DOUBLE: a Kestrel server on a random loopback port that answers the two spot-notice
/// endpoints a replica watches, with the wire rules of the real services. EC2 IMDSv2: <c>PUT /latest/api/token</c> with
/// a TTL header (1-21600 s) issues a token, and <c>GET /latest/meta-data/spot/instance-action</c> answers 401 without a
/// valid one, 404 while no notice is out and 200 <c>{"action","time"}</c> after <see cref="IssueNotice"/>. Compute
/// Engine: <c>GET /computeMetadata/v1/instance/preempted</c> answers 403 without <c>Metadata-Flavor: Google</c>, TRUE or
/// FALSE with an ETag, and with <c>wait_for_change=true</c> holds the request until the value differs from
/// <c>last_etag</c> (or from the current one) or <c>timeout_sec</c> passes.
/// </summary>
public sealed class InstanceMetadataTestDouble : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly WebApplication _app;
    private readonly HashSet<string> _tokens = new(StringComparer.Ordinal);
    private readonly List<string> _requests = [];
    private (string Action, DateTimeOffset Time)? _notice;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _tokenCount;

    private InstanceMetadataTestDouble(WebApplication app) => _app = app;

    /// <summary>The double's base URL (http://127.0.0.1:PORT/), what WF_INSTANCE_METADATA_URL is set to.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Requests served, as "VERB path?query STATUS", for tests that check what was asked and how it was answered.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_gate)
                return [.. _requests];
        }
    }

    /// <summary>IMDSv2 tokens issued so far.</summary>
    public int TokensIssued => Volatile.Read(ref _tokenCount);

    /// <summary>Starts the double on 127.0.0.1:<paramref name="port"/> (0: a free one).</summary>
    public static async Task<InstanceMetadataTestDouble> StartAsync(int port = 0)
    {
        InstanceMetadataTestDouble? double_ = null;
        var (_, url) = await LoopbackHost.StartAsync(app => (double_ = new InstanceMetadataTestDouble(app)).HandleAsync, port);
        double_!.Url = url;
        return double_;
    }

    /// <summary>Announces an interruption: EC2's instance-action appears, Compute Engine's preempted turns TRUE (waiting polls answer at once).</summary>
    public void IssueNotice(DateTimeOffset terminatesAt, string action = "terminate")
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _notice = (action, terminatesAt);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>Forgets every IMDSv2 token issued (as an IMDS restart does): their next use answers 401.</summary>
    public void RevokeTokens()
    {
        lock (_gate)
            _tokens.Clear();
    }

    private async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        var path = request.Path.Value ?? "";
        var status = (request.Method, path) switch
        {
            ("PUT", "/latest/api/token") => await IssueTokenAsync(http),
            ("GET", "/latest/meta-data/spot/instance-action") => await InstanceActionAsync(http),
            ("GET", "/computeMetadata/v1/instance/preempted") => await PreemptedAsync(http),
            _ => await WriteAsync(http, StatusCodes.Status404NotFound, "text/plain", "Not Found"),
        };
        lock (_gate)
            _requests.Add($"{request.Method} {path}{request.QueryString} {status}");
    }

    private async Task<int> IssueTokenAsync(HttpContext http)
    {
        if (!int.TryParse(http.Request.Headers["X-aws-ec2-metadata-token-ttl-seconds"].ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ttl)
            || ttl is < 1 or > 21600)
        {
            return await WriteAsync(http, StatusCodes.Status400BadRequest, "text/plain", "Bad Request");
        }

        var token = "token-" + Guid.NewGuid().ToString("N");
        lock (_gate)
            _tokens.Add(token);
        Interlocked.Increment(ref _tokenCount);
        http.Response.Headers["X-aws-ec2-metadata-token-ttl-seconds"] = ttl.ToString(CultureInfo.InvariantCulture);
        return await WriteAsync(http, StatusCodes.Status200OK, "text/plain", token);
    }

    private async Task<int> InstanceActionAsync(HttpContext http)
    {
        (string Action, DateTimeOffset Time)? notice;
        bool authorized;
        lock (_gate)
        {
            authorized = _tokens.Contains(http.Request.Headers["X-aws-ec2-metadata-token"].ToString());
            notice = _notice;
        }

        if (!authorized)
        {
            return await WriteAsync(http, StatusCodes.Status401Unauthorized, "text/plain", "Unauthorized");
        }

        return notice is not { } n
            ? await WriteAsync(http, StatusCodes.Status404NotFound, "text/plain", "Not Found")
            : await WriteAsync(http, StatusCodes.Status200OK, "application/json",
                $$"""{"action":"{{n.Action}}","time":"{{n.Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}}"}""");
    }

    private async Task<int> PreemptedAsync(HttpContext http)
    {
        var request = http.Request;
        if (!string.Equals(request.Headers["Metadata-Flavor"].ToString(), "Google", StringComparison.Ordinal))
        {
            return await WriteAsync(http, StatusCodes.Status403Forbidden, "text/html", "Missing Metadata-Flavor:Google header.");
        }

        if (string.Equals(request.Query["wait_for_change"].ToString(), "true", StringComparison.OrdinalIgnoreCase))
        {
            var timeout = int.TryParse(request.Query["timeout_sec"].ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
                ? TimeSpan.FromSeconds(seconds)
                : TimeSpan.FromMinutes(5);
            var lastEtag = request.Query["last_etag"].ToString();
            Task changed;
            lock (_gate)
            {
                // Without last_etag the server waits for a change from the value it has now.
                changed = lastEtag.Length > 0 && lastEtag != Etag(_notice is not null) ? Task.CompletedTask : _changed.Task;
            }

            try
            {
                await changed.WaitAsync(timeout, http.RequestAborted);
            }
            catch (TimeoutException)
            {
                // The long poll ends with the unchanged value, as the real server does.
            }
            catch (OperationCanceledException)
            {
                return 499;
            }
        }

        bool preempted;
        lock (_gate)
            preempted = _notice is not null;
        http.Response.Headers.ETag = Etag(preempted);
        http.Response.Headers["Metadata-Flavor"] = "Google";
        return await WriteAsync(http, StatusCodes.Status200OK, "application/text", preempted ? "TRUE" : "FALSE");
    }

    private static string Etag(bool preempted) => preempted ? "7c4a8d09ca3762af" : "2e9f0d0b5bcd3e11";

    private static async Task<int> WriteAsync(HttpContext http, int status, string contentType, string body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = contentType;
        await http.Response.WriteAsync(body, http.RequestAborted);
        return status;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
            _changed.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
