using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Service.State;

namespace WrinkleFree.Service.Daemon;

/// <summary>
/// GET /services/{name}/events?after=ID&amp;limit=N on the admin API: without <c>after</c> the service's latest
/// <c>limit</c> events, with it the ones after that id (what `wf events --follow` polls for); oldest first either way.
/// </summary>
public static class ServiceEventsEndpoint
{
    /// <summary>The most events one answer carries.</summary>
    public const int MaxLimit = 1000;

    /// <summary>Events per answer when the client names no limit.</summary>
    public const int DefaultLimit = 100;

    /// <summary>Maps the route; the store is read directly, so a service whose controller did not resume still has its log.</summary>
    public static IEndpointConventionBuilder MapServiceEvents(this IEndpointRouteBuilder routes, ServiceStore store) =>
        routes.MapGet("/services/{name}/events", (HttpContext context, string name) => ListAsync(context, store, name));

    private static async Task ListAsync(HttpContext context, ServiceStore store, string name)
    {
        var ct = context.RequestAborted;
        var query = context.Request.Query;
        long? after = null;
        if (query.ContainsKey("after"))
        {
            if (!long.TryParse(query["after"], NumberStyles.None, CultureInfo.InvariantCulture, out var a))
            {
                await Error(context, 400, $"after must be an event id (an integer >= 0), got '{query["after"]}'", "invalid_value").ConfigureAwait(false);
                return;
            }
            after = a;
        }
        var limit = DefaultLimit;
        if (query.ContainsKey("limit") && (!int.TryParse(query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            await Error(context, 400, $"limit must be 1..{MaxLimit}, got '{query["limit"]}'", "invalid_value").ConfigureAwait(false);
            return;
        }
        if (await store.GetServiceAsync(name, ct).ConfigureAwait(false) is null)
        {
            await Error(context, 404, $"no service named '{name}'", "unknown_service").ConfigureAwait(false);
            return;
        }
        var events = after is { } id
            ? await store.ListEventsAsync(name, id, limit, ct).ConfigureAwait(false)
            : await store.ListLatestEventsAsync(name, limit, ct).ConfigureAwait(false);
        await context.Response.WriteAsJsonAsync(events.Select(ServiceEventView.From).ToList(), DaemonJsonContext.Default.ListServiceEventView, cancellationToken: ct).ConfigureAwait(false);
    }

    private static Task Error(HttpContext context, int status, string message, string code) =>
        OpenAiError.WriteAsync(context, status, message, "invalid_request_error", code);
}
