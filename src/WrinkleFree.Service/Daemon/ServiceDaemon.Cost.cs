using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Service.Daemon;

/// <summary>The cost part of the daemon: GET /cost?service=NAME&amp;since=ISO-8601 (what `wf cost` shows).</summary>
public sealed partial class ServiceDaemon
{
    private void MapCost(WebApplication app) => app.MapGet("/cost", CostAsync);

    private async Task CostAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var service = context.Request.Query["service"] is [{ } s] ? s : null;
        if (context.Request.Query["since"] is not [{ } sinceText]
            || !DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since))
        {
            await Error(context, 400, "since must be given as an ISO-8601 time, e.g. since=2026-12-01T00:00:00Z", "invalid_value").ConfigureAwait(false);
            return;
        }

        if (since > _time.GetUtcNow())
        {
            await Error(context, 400, $"since ({since:O}) is in the future", "invalid_value").ConfigureAwait(false);
            return;
        }

        // A removed service still has history; only a name never seen is an error (a typo would otherwise show $0).
        if (service is not null && !_controllers.ContainsKey(service) && !await _store.HasCostHistoryAsync(service, ct).ConfigureAwait(false))
        {
            var known = string.Join(", ", _controllers.Keys.Order(StringComparer.Ordinal));
            await Error(context, 404, $"no service named '{service}' has run here" + (known.Length > 0 ? $"; services: {known}" : ""), "unknown_service").ConfigureAwait(false);
            return;
        }

        var report = await _store.CostAsync(service, since, ct).ConfigureAwait(false);
        await context.Response.WriteAsJsonAsync(report, DaemonJsonContext.Default.CostReport, cancellationToken: ct).ConfigureAwait(false);
    }
}
