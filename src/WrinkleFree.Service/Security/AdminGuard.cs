using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Security;

/// <summary>
/// What stands in front of every route of the daemon's admin API. The Host header must name the loopback address the
/// request came to (127.0.0.1, localhost or [::1] with the admin port), so a web page that rebinds its DNS name to
/// 127.0.0.1 cannot drive the API from a browser; bodies are bounded (<see cref="MaxBodyBytes"/>); and the caller must
/// send the admin token of daemon.json. The status page is for browsers, which cannot send that header: a one-time
/// link (<c>wf status --web</c>) sets an HttpOnly, SameSite=Strict session cookie that opens only GET /status routes.
/// </summary>
public sealed class AdminGuard
{
    /// <summary>The largest request body the admin API reads (specs are a few KB).</summary>
    public const long MaxBodyBytes = 1 << 20;

    /// <summary>The status page's session cookie.</summary>
    public const string CookieName = "wf_status";

    /// <summary>The query parameter of a one-time status link.</summary>
    public const string LoginParameter = "login";

    /// <summary>How long a one-time status link stays good.</summary>
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromMinutes(5);

    // Sessions and pending links live in memory only: a restarted daemon asks for a new link, which is cheap.
    private const int MaxSessions = 64;

    private readonly string _token;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _links = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _sessions = new(StringComparer.Ordinal);

    /// <summary>A guard that lets in requests bearing <paramref name="token"/>.</summary>
    public AdminGuard(string token, TimeProvider time, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        (_token, _time, _logger) = (token, time, logger);
    }

    /// <summary>A new one-time login secret for the status page (the daemon builds the URL around it).</summary>
    public string CreateStatusLogin()
    {
        var now = _time.GetUtcNow();
        foreach (var (link, expires) in _links)
        {
            if (expires <= now)
                _links.TryRemove(link, out _);
        }
        var secret = ApiKeySecret.NewToken();
        _links[secret] = now + LinkLifetime;
        return secret;
    }

    /// <summary>The middleware: Host, body size, then the token (or, for GET /status routes, the session cookie).</summary>
    public async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var request = context.Request;
        var port = context.Connection.LocalPort;
        var host = request.Host.Value;
        if (host is null || !(host == $"127.0.0.1:{port}" || host == $"localhost:{port}" || host == $"[::1]:{port}"))
        {
            await RefuseAsync(context, 403, "host_not_allowed",
                $"the admin API answers only requests for 127.0.0.1:{port}, localhost:{port} or [::1]:{port}, not Host '{host}'").ConfigureAwait(false);
            return;
        }
        if (request.ContentLength > MaxBodyBytes)
        {
            context.Response.Headers.Connection = "close";
            await RefuseAsync(context, 413, "request_too_large", $"the request body is larger than the admin API's limit of {MaxBodyBytes} bytes").ConfigureAwait(false);
            return;
        }
        var statusRead = HttpMethods.IsGet(request.Method) && request.Path.StartsWithSegments(Status.StatusPage.Path);
        if (statusRead && request.Query[LoginParameter] is [{ } login] && request.Path == Status.StatusPage.Path)
        {
            if (_links.TryRemove(login, out var expires) && expires > _time.GetUtcNow())
            {
                var session = ApiKeySecret.NewToken();
                if (_sessions.Count >= MaxSessions)
                    _sessions.Clear();
                _sessions[session] = _time.GetUtcNow();
                context.Response.Headers.Append(HeaderNames.SetCookie,
                    $"{CookieName}={session}; Path={Status.StatusPage.Path}; HttpOnly; SameSite=Strict");
                context.Response.Headers.Location = Status.StatusPage.Path;
                context.Response.StatusCode = StatusCodes.Status303SeeOther;
                return;
            }
            await RefuseAsync(context, 401, "link_expired", "this status link was used already or is older than 5 minutes; `wf status --web` prints a new one").ConfigureAwait(false);
            return;
        }
        if (statusRead && request.Cookies[CookieName] is { } cookie && _sessions.ContainsKey(cookie))
        {
            await next().ConfigureAwait(false);
            return;
        }
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && ApiKeySecret.SecretEquals(header["Bearer ".Length..].Trim(), _token))
        {
            try
            {
                await next().ConfigureAwait(false);
            }
            catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                // A safety net, not a path: a route that fails answers one line in the OpenAI shape and the daemon goes on.
                Log.AdminFailed(_logger, request.Method, request.Path, e);
                await OpenAiError.WriteAsync(context, 500, $"the daemon failed to handle {request.Method} {request.Path}: {e.Message}", "server_error", "internal_error").ConfigureAwait(false);
            }
            return;
        }
        await RefuseAsync(context, 401, "admin_token_required", statusRead
            ? "the status page needs the admin token or a login link: `wf status --web` prints one"
            : "the admin API needs the admin token of daemon.json in WF_HOME (the wf CLI sends it): send 'Authorization: Bearer TOKEN'").ConfigureAwait(false);
    }

    private Task RefuseAsync(HttpContext context, int status, string code, string message)
    {
        Log.AdminRefused(_logger, context.Request.Method, context.Request.Path, status, code);
        return OpenAiError.WriteAsync(context, status, message, "invalid_request_error", code);
    }
}
