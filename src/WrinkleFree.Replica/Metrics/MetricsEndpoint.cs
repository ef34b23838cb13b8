using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Replica.Metrics;

/// <summary>GET /metrics: the replica's own registry in the Prometheus text format.</summary>
internal static class MetricsEndpoint
{
    public static async Task HandleAsync(HttpContext http, ReplicaContext replica)
    {
        replica.Refresh();
        if (replica.Backend is IPrefixCacheReporter { } reporter && reporter.GetPrefixCacheStats() is { } stats)
        {
            replica.Metrics.Update(stats);
        }
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await replica.Metrics.Registry.CollectAndExportAsTextAsync(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
    }
}
