using System.Text;
using System.Text.Json;
using WrinkleFree.Service.Autoscaling;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Controller;

/// <summary>Sends one readiness probe over HTTP and reads the replica's /health signals from the body.</summary>
internal sealed class ReplicaProber(HttpClient http, TimeProvider time)
{
    /// <param name="replicaKey">The daemon's replica key, sent to any path but the public /health unless the spec sets its own Authorization.</param>
    public async Task<(ProbeResult Probe, ReplicaLoad Load)> ProbeAsync(string endpoint, ReadinessProbeSpec spec, string? replicaKey, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(spec.TimeoutSeconds));
        try
        {
            var body = spec.PostDataJson();
            using var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, endpoint.TrimEnd('/') + spec.Path);
            if (body is not null)
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            foreach (var (name, value) in spec.Headers)
                request.Headers.TryAddWithoutValidation(name, value);
            if (replicaKey is not null && spec.Path != "/health" && request.Headers.Authorization is null)
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", replicaKey);
            using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            var latency = time.GetElapsedTime(started);
            var (overloaded, ttft, queue) = ReadSignals(text);
            var code = (int)response.StatusCode;
            return (new ProbeResult(code, latency, overloaded), new ReplicaLoad(false, ttft, queue));
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (ProbeResult.NoResponse(time.GetElapsedTime(started)), default);
        }
    }

    /// <summary>The replica server's /health fields; anything else (a plain "OK", another server's JSON) reads as no signal.</summary>
    internal static (bool Overloaded, TimeSpan? TtftP50, int QueueDepth) ReadSignals(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return default;
            var overloaded = root.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String && s.GetString() == "overloaded";
            TimeSpan? ttft = root.TryGetProperty("ttft_p50_ms", out var t) && t.ValueKind == JsonValueKind.Number ? TimeSpan.FromMilliseconds(t.GetDouble()) : null;
            var queue = root.TryGetProperty("queue_depth", out var q) && q.TryGetInt32(out var depth) ? depth : 0;
            return (overloaded, ttft, queue);
        }
        catch (JsonException)
        {
            return default;
        }
    }

}
