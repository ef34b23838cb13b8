namespace WrinkleFree.Testing;

/// <summary>One active scrape target as Prometheus' /api/v1/targets reports it.</summary>
/// <param name="Job">The scrape pool (the job_name).</param>
/// <param name="ScrapeUrl">The URL Prometheus scrapes.</param>
/// <param name="Health">"up", "down" or "unknown" (not scraped yet).</param>
/// <param name="LastError">The last scrape's error, empty when it succeeded.</param>
/// <param name="Labels">The target's labels after relabelling (job, instance and the file_sd labels).</param>
public sealed record PrometheusTarget(string Job, string ScrapeUrl, string Health, string LastError, IReadOnlyDictionary<string, string> Labels);
