using Microsoft.Extensions.Logging;
using WrinkleFree.Replica.Api;
using WrinkleFree.Replica.Backends;
using WrinkleFree.Replica.Health;
using WrinkleFree.Replica.Metrics;

namespace WrinkleFree.Replica;

/// <summary>What every endpoint of one replica shares: its options, backend, statistics, metrics and clock.</summary>
internal sealed class ReplicaContext(ReplicaOptions options, IInferenceBackend backend, TimeProvider time, ILogger logger)
{
    // Set on the warm-up's own requests (ReplicaWarmUp): they pass the "still loading" gate and stay out of the metrics.
    private static readonly AsyncLocal<bool> s_inWarmUp = new();
    private volatile bool _draining;
    private volatile bool _warmingUp;
    private volatile InterruptionNotice? _notice;

    public ReplicaOptions Options { get; } = options;

    public IInferenceBackend Backend { get; } = backend;

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public ReplicaStats Stats { get; } = new(time, TimeSpan.FromSeconds(10));

    public ReplicaMetrics Metrics { get; } = new();

    /// <summary>Set when shutdown starts: /health answers 503 "draining" and new generations are refused.</summary>
    public bool Draining
    {
        get => _draining;
        set => _draining = value;
    }

    /// <summary>
    /// While the loaded backend answers its warm-up requests: /health still says "loading" and other requests get 503
    /// model_loading, so the first real request runs compiled code.
    /// </summary>
    public bool WarmingUp
    {
        get => _warmingUp;
        set => _warmingUp = value;
    }

    /// <summary>
    /// The secret the replica's own warm-up requests carry in <see cref="WarmUpHeader"/> (32 random bytes per process);
    /// honoured only while <see cref="WarmingUp"/>, so it never opens anything to a client.
    /// </summary>
    public string WarmUpToken { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public const string WarmUpHeader = "X-WF-Warmup";

    /// <summary>How the warm-up ended: null before (or without) one, "ok", or why it failed.</summary>
    public string? WarmUpOutcome { get; set; }

    /// <summary>Whether <paramref name="http"/> is one of this replica's warm-up requests (while it is warming up).</summary>
    public bool IsWarmUpRequest(Microsoft.AspNetCore.Http.HttpContext http) =>
        WarmingUp && http.Request.Headers[WarmUpHeader] is { Count: 1 } sent && sent[0] is { } value
        && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(value), System.Text.Encoding.ASCII.GetBytes(WarmUpToken));

    /// <summary>True inside a warm-up request: its latency and tokens are not a client's, so metrics skip them.</summary>
    public static bool InWarmUp => s_inWarmUp.Value;

    /// <summary>Marks the current async flow as the warm-up's (see <see cref="InWarmUp"/>).</summary>
    internal static void EnterWarmUp() => s_inWarmUp.Value = true;

    /// <summary>The spot interruption notice that made the replica drain; null while none came.</summary>
    public InterruptionNotice? InterruptionNotice
    {
        get => _notice;
        set => _notice = value;
    }

    /// <summary>Throws 404 model_not_found unless <paramref name="model"/> is absent or names the served model.</summary>
    public void CheckModel(string? model)
    {
        if (model is not null && !string.Equals(model, Backend.ModelId, StringComparison.Ordinal))
        {
            throw new BackendException(404, "invalid_request_error", $"The model '{model}' does not exist; this replica serves '{Backend.ModelId}'", "model", "model_not_found");
        }
    }

    /// <summary>Throws 503 while the replica drains or the backend is not ready.</summary>
    public void CheckAccepting()
    {
        if (Draining)
        {
            var why = InterruptionNotice is { } notice ? "the replica is draining: " + notice.Reason : "the replica is shutting down";
            throw new BackendException(503, "service_unavailable", why + "; send the request to another replica", null, "draining", TimeSpan.FromSeconds(1));
        }

        if (Backend.State == BackendState.Loading || (WarmingUp && !InWarmUp))
        {
            throw new BackendException(503, "service_unavailable", "the model is still loading; retry shortly", null, "model_loading", TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Samples the rates and refreshes the load gauges (before each scrape, each /health and once a second).</summary>
    public (BackendLoad Load, ReplicaStats.Rates Rates) Refresh()
    {
        var load = Backend.GetLoad();
        var rates = Stats.Sample(load.WeightBytesStreamed);
        Metrics.ActiveRequests.Set(load.ActiveRequests);
        Metrics.QueueDepth.Set(load.QueueDepth);
        Metrics.TokensPerSecond.Set(rates.TokensPerSecond);
        Metrics.BandwidthUtilization.Set(rates.BandwidthUtilization);
        return (load, rates);
    }

    /// <summary>Endpoint label for wf_requests_total: the known routes, else "other" (bounded label cardinality).</summary>
    public static string EndpointLabel(string path) => path switch
    {
        Routes.Completions or Routes.ChatCompletions or Routes.Models or Routes.Tokenize or Routes.Detokenize or Routes.Health or Routes.Metrics => path,
        _ => "other",
    };
}
