namespace WrinkleFree.Jobs;

/// <summary>How an <see cref="IJobInfrastructure"/> run ended: a final status and, for failures, why.</summary>
public sealed record JobRunResult(JobStatus Status, string? Reason);
