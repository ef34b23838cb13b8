using Prometheus;

namespace WrinkleFree.Replica.Metrics;

/// <summary>
/// The replica's Prometheus metrics in a registry of its own (not the static default), so two replicas in one process
/// export separate numbers. Gauges are refreshed just before each scrape.
/// </summary>
internal sealed class ReplicaMetrics
{
    // Token latencies on a CPU run from sub-millisecond (tiny models) to seconds (long prompts on big models).
    private static readonly double[] LatencyBuckets = Histogram.ExponentialBuckets(0.0005, 2, 16);
    private static readonly double[] DurationBuckets = Histogram.ExponentialBuckets(0.005, 2, 16);

    public ReplicaMetrics()
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        TokensPerSecond = factory.CreateGauge("wf_tokens_per_second", "Generated tokens per second over the last window.");
        TimeToFirstToken = factory.CreateHistogram("wf_time_to_first_token_seconds", "Seconds from request arrival to the first generated token.",
            new HistogramConfiguration { Buckets = LatencyBuckets });
        BandwidthUtilization = factory.CreateGauge("wf_memory_bandwidth_utilization", "Weight bytes streamed per second over the peak read bandwidth measured at start-up.");
        ActiveRequests = factory.CreateGauge("wf_active_requests", "Sequences being generated now.");
        QueueDepth = factory.CreateGauge("wf_queue_depth", "Requests waiting for a generation slot.");
        Requests = factory.CreateCounter("wf_requests_total", "HTTP requests by endpoint and status code.",
            new CounterConfiguration { LabelNames = ["endpoint", "status"] });
        PromptTokens = factory.CreateCounter("wf_prompt_tokens_total", "Prompt tokens of completed generations.");
        GeneratedTokens = factory.CreateCounter("wf_generated_tokens_total", "Generated tokens.");
        InterTokenLatency = factory.CreateHistogram("wf_inter_token_latency_seconds", "Seconds between consecutive tokens of one stream.",
            new HistogramConfiguration { Buckets = LatencyBuckets });
        RequestDuration = factory.CreateHistogram("wf_request_duration_seconds", "End-to-end seconds of generation requests.",
            new HistogramConfiguration { LabelNames = ["endpoint"], Buckets = DurationBuckets });
        InterruptionNotice = factory.CreateGauge("wf_replica_interruption_notice", "1 once the cloud announced a spot interruption of this instance (the replica drains), else 0.");
        PrefixPromptTokens = factory.CreateCounter("wf_prefix_cache_prompt_tokens_total", "Prompt tokens of admitted sequences, cached or not.");
        PrefixHitTokens = factory.CreateCounter("wf_prefix_cache_hit_tokens_total", "Prompt tokens served from the prefix cache instead of prefilled.");
        PrefillTokens = factory.CreateCounter("wf_prefill_tokens_total", "Prompt tokens the engine computed (prefill work).");
        PrefixCachedPages = factory.CreateGauge("wf_prefix_cache_pages", "KV pages registered in the prefix cache (in use or idle).");
        PrefixPagesCached = factory.CreateCounter("wf_prefix_cache_pages_cached_total", "KV pages registered in the prefix cache.");
        PrefixPagesEvicted = factory.CreateCounter("wf_prefix_cache_pages_evicted_total", "Idle cached KV pages evicted to make room.");
        InterruptionTime = factory.CreateGauge("wf_replica_interruption_time_seconds", "Unix time the announced spot interruption takes the instance; 0 while none is announced.");
    }

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    public Gauge TokensPerSecond { get; }

    public Histogram TimeToFirstToken { get; }

    public Gauge BandwidthUtilization { get; }

    public Gauge ActiveRequests { get; }

    public Gauge QueueDepth { get; }

    public Counter Requests { get; }

    public Counter PromptTokens { get; }

    public Counter GeneratedTokens { get; }

    public Histogram InterTokenLatency { get; }

    public Histogram RequestDuration { get; }

    public Gauge InterruptionNotice { get; }

    public Gauge InterruptionTime { get; }

    public Counter PrefixPromptTokens { get; }

    public Counter PrefixHitTokens { get; }

    public Counter PrefillTokens { get; }

    public Gauge PrefixCachedPages { get; }

    public Counter PrefixPagesCached { get; }

    public Counter PrefixPagesEvicted { get; }

    /// <summary>Copies the engine's cumulative prefix-cache counts into the exported metrics (before a scrape).</summary>
    public void Update(PrefixCacheStats stats)
    {
        PrefixPromptTokens.IncTo(stats.PromptTokens);
        PrefixHitTokens.IncTo(stats.HitTokens);
        PrefillTokens.IncTo(stats.PrefilledTokens);
        PrefixCachedPages.Set(stats.CachedPages);
        PrefixPagesCached.IncTo(stats.PagesCached);
        PrefixPagesEvicted.IncTo(stats.PagesEvicted);
    }
}
