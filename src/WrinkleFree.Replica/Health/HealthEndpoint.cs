using Microsoft.AspNetCore.Http;
using WrinkleFree.Replica.Api;
using WrinkleFree.Replica.Backends;

namespace WrinkleFree.Replica.Health;

/// <summary>
/// GET /health: 503 "loading" until the backend is ready (as llama.cpp answers), 200 "ok" with load figures, 503
/// "overloaded" while the queue depth or bandwidth utilization is at its threshold so load balancers stop sending,
/// 503 "unavailable" when the backend is down and 503 "draining" during shutdown or after a spot interruption notice
/// (then with a "reason" and the notice itself).
/// </summary>
internal static class HealthEndpoint
{
    public static Task HandleAsync(HttpContext http, ReplicaContext replica)
    {
        var (load, rates) = replica.Refresh();
        var options = replica.Options;
        var status = replica.Draining ? "draining"
            : replica.WarmingUp && replica.Backend.State == BackendState.Ready ? "loading"
            : replica.Backend.State switch
            {
                BackendState.Loading => "loading",
                BackendState.Unavailable => "unavailable",
                _ when load.QueueDepth >= options.OverloadQueueThreshold || rates.BandwidthUtilization >= options.OverloadBandwidthThreshold => "overloaded",
                _ => "ok",
            };
        var ttft = replica.Stats.TimeToFirstTokenP50Ms();
        return UtilityEndpoints.WriteJsonAsync(http, status == "ok" ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", status);
            if (replica.InterruptionNotice is { } notice)
            {
                w.WriteString("reason", notice.Reason);
                w.WriteStartObject("interruption_notice");
                w.WriteString("cloud", notice.Cloud);
                w.WriteString("action", notice.Action);
                w.WriteString("terminates_at", notice.TerminatesAt);
                w.WriteString("received_at", notice.ReceivedAt);
                w.WriteEndObject();
            }

            w.WriteString("backend", replica.Backend.Name);
            w.WriteString("model", replica.Backend.ModelId);
            w.WriteNumber("active_requests", load.ActiveRequests);
            w.WriteNumber("queue_depth", load.QueueDepth);
            if (ttft is { } p50)
            {
                w.WriteNumber("ttft_p50_ms", Math.Round(p50, 3));
            }
            else
            {
                w.WriteNull("ttft_p50_ms");
            }

            w.WriteNumber("tokens_per_second", Math.Round(rates.TokensPerSecond, 3));
            w.WriteNumber("memory_bandwidth_utilization", Math.Round(rates.BandwidthUtilization, 4));
            w.WriteEndObject();
        });
    }
}
