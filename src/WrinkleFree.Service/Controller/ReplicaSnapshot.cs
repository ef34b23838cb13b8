namespace WrinkleFree.Service.Controller;

/// <summary>One replica as `wf status` shows it.</summary>
/// <param name="Id">The service-unique replica id.</param>
/// <param name="Tier">The tier it runs on.</param>
/// <param name="Status">Its lifecycle state.</param>
/// <param name="Endpoint">Its base URL, null before launch.</param>
/// <param name="CostPerHour">Its tier's price per replica-hour.</param>
/// <param name="Pid">The process id for local replicas.</param>
/// <param name="Version">The service version it runs.</param>
/// <param name="LaunchedAt">When it was recorded for launch.</param>
/// <param name="FailureReason">Why it failed (exit code and last log lines, a probe that never passed), or null.</param>
/// <param name="TtftP50">Median time to first token from its last /health probe, null when it reported none.</param>
public sealed record ReplicaSnapshot(
    int Id, string Tier, ReplicaStatus Status, string? Endpoint, double CostPerHour, int? Pid, int Version, DateTimeOffset LaunchedAt,
    string? FailureReason = null, TimeSpan? TtftP50 = null);
