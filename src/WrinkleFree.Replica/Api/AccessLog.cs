using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// One line per request in the replica's log (category <see cref="Category"/>): method, route, status, prompt and
/// generated tokens, time to first token, duration and the request id. Probes (/health, /metrics) are logged at Debug:
/// the controller and Prometheus call them every few seconds and would drown the requests.
/// </summary>
internal static class AccessLog
{
    public const string Category = "WrinkleFree.Replica.Access";

    public static void Write(ILogger logger, HttpContext http, int status, TimeSpan duration, string requestId)
    {
        var route = http.Request.Path.Value ?? "";
        var level = route is Routes.Health or Routes.Metrics ? LogLevel.Debug : LogLevel.Information;
        if (!logger.IsEnabled(level))
        {
            return;
        }

        var usage = http.Features.Get<RequestUsage>();
        // "-" where a request generated nothing, as access logs write a missing value.
        var ttft = usage?.TimeToFirstToken is { } t ? t.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture) : "-";
        Log.Access(logger, level, http.Request.Method, route, status, usage?.PromptTokens ?? 0, usage?.GeneratedTokens ?? 0, ttft, duration.TotalMilliseconds, requestId);
    }
}
