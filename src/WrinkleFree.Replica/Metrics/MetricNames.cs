namespace WrinkleFree.Replica.Metrics;

/// <summary>Every metric a replica exports, for dashboards, alert rules and tests.</summary>
public static class MetricNames
{
    public static readonly IReadOnlyList<string> All =
    [
        "wf_tokens_per_second",
        "wf_time_to_first_token_seconds",
        "wf_memory_bandwidth_utilization",
        "wf_active_requests",
        "wf_queue_depth",
        "wf_requests_total",
        "wf_prompt_tokens_total",
        "wf_generated_tokens_total",
        "wf_inter_token_latency_seconds",
        "wf_request_duration_seconds",
        "wf_replica_interruption_notice",
        "wf_replica_interruption_time_seconds",
        "wf_prefix_cache_prompt_tokens_total",
        "wf_prefix_cache_hit_tokens_total",
        "wf_prefill_tokens_total",
        "wf_prefix_cache_pages",
        "wf_prefix_cache_pages_cached_total",
        "wf_prefix_cache_pages_evicted_total",
    ];
}
