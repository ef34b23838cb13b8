namespace WrinkleFree.Service.Spec;

/// <summary>
/// The <c>service.failure_policy</c> section (ours; SkyServe has none): how a service whose replicas keep failing backs
/// off before each replacement, and when it stops replacing them and is marked FAILED.
/// </summary>
public sealed record FailurePolicySpec
{
    /// <summary>Replica failures within <see cref="WindowSeconds"/>, with no replica becoming ready, that mark the service FAILED.</summary>
    public int MaxFailures { get; init; } = 5;

    /// <summary>The window in which <see cref="MaxFailures"/> failures count.</summary>
    public int WindowSeconds { get; init; } = 600;

    /// <summary>Wait before the launch that follows the first failure; it doubles with each further consecutive failure.</summary>
    public int InitialBackoffSeconds { get; init; } = 5;

    /// <summary>The cap on the doubling wait.</summary>
    public int MaxBackoffSeconds { get; init; } = 300;
}
