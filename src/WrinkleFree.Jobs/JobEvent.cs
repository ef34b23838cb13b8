namespace WrinkleFree.Jobs;

/// <summary>One state transition of a job, with what caused it.</summary>
public sealed record JobEvent(long Id, long JobId, DateTimeOffset Time, JobStatus? From, JobStatus To, string? Message);
