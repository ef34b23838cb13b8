namespace WrinkleFree.Providers.Cloud.Gcp;

/// <summary>How <see cref="GceCompute"/> waits for zone operations and retries transient failures.</summary>
internal sealed record GceOptions
{
    /// <summary>Between two GETs of an unfinished operation; GCE's own tools poll at about this pace.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>An insert not DONE by then is reported as failed (the provider moves on) instead of waiting forever.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Calls answered 429 or 5xx (not capacity) are tried this often in all; GCE asks clients to retry those.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The wait before the first retry, doubled for each further one.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);
}
