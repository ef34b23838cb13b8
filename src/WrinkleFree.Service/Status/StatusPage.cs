using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.State;

namespace WrinkleFree.Service.Status;

/// <summary>
/// The daemon's read-only status page: GET /status (HTML, CSS and JS embedded in this assembly, nothing fetched from
/// elsewhere, so it works offline) and GET /status/data.json, which the page polls every few seconds.
/// </summary>
/// <remarks>
/// Every route sits in the one group <see cref="Map"/> returns: the admin token check (issue 12) is added in front of all
/// of them with a single <c>.AddEndpointFilter(...)</c> on that group, or with one middleware before routing that guards
/// the whole admin API. The page sends no credentials of its own; it fetches data.json from the same origin.
/// </remarks>
public static class StatusPage
{
    /// <summary>The page's path.</summary>
    public const string Path = "/status";

    // Nothing the page loads may come from anywhere but the daemon itself.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Asset Html = Asset.Load("status.html", "text/html; charset=utf-8");
    private static readonly Asset Css = Asset.Load("status.css", "text/css; charset=utf-8");
    private static readonly Asset Js = Asset.Load("status.js", "text/javascript; charset=utf-8");

    /// <summary>
    /// Maps the page and its data on <paramref name="app"/>, and samples every controller's snapshot into a
    /// <see cref="ServiceHistory"/> from the moment the app starts until it stops.
    /// </summary>
    /// <returns>The route group of every status route (where an auth filter goes).</returns>
    public static RouteGroupBuilder Map(WebApplication app, ServiceStore store, Func<IEnumerable<ServiceController>> controllers, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(controllers);
        ArgumentNullException.ThrowIfNull(time);
        var history = new ServiceHistory(time);
        ITimer? sampler = null;
        app.Lifetime.ApplicationStarted.Register(() => sampler = history.StartSampling(() => controllers().Select(c => c.Snapshot)));
        app.Lifetime.ApplicationStopping.Register(() => sampler?.Dispose());

        var group = app.MapGroup(Path);
        group.MapGet("", (HttpContext c) => Html.WriteAsync(c));
        group.MapGet("/status.css", (HttpContext c) => Css.WriteAsync(c));
        group.MapGet("/status.js", (HttpContext c) => Js.WriteAsync(c));
        group.MapGet("/data.json", async (HttpContext c) =>
        {
            // The version stored last, as `wf status` shows it: the snapshot names it only once the tick applying it ends.
            var services = controllers().Select(x => (x.Snapshot with { Version = x.LatestVersion }, x.CurrentSpec.Tiers)).ToList();
            var data = await StatusDataBuilder.BuildAsync(services, store, history, time, c.RequestAborted).ConfigureAwait(false);
            c.Response.Headers.CacheControl = "no-store";
            await c.Response.WriteAsJsonAsync(data, StatusJsonContext.Default.StatusData, cancellationToken: c.RequestAborted).ConfigureAwait(false);
        });
        return group;
    }

    /// <summary>One embedded file of the page, read once.</summary>
    private sealed record Asset(byte[] Bytes, string ContentType)
    {
        public static Asset Load(string name, string contentType)
        {
            var resource = "WrinkleFree.Service.Status.Assets." + name;
            using var stream = typeof(StatusPage).Assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"the status page asset {resource} is not embedded in {typeof(StatusPage).Assembly.GetName().Name}");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return new Asset(copy.ToArray(), contentType);
        }

        public Task WriteAsync(HttpContext context)
        {
            context.Response.ContentType = ContentType;
            context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers.CacheControl = "no-cache";
            return context.Response.Body.WriteAsync(Bytes, context.RequestAborted).AsTask();
        }
    }
}
