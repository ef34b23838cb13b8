namespace WrinkleFree.Service.Autoscaling;

/// <summary>One live replica's health signals from its last /health probe, as the autoscaler reads them.</summary>
/// <param name="IsReady">True when the replica is READY (only ready replicas' TTFT counts).</param>
/// <param name="TtftP50">Median time to first token over the replica's recent requests, null when it has none.</param>
/// <param name="QueueDepth">Requests waiting for a slot.</param>
public readonly record struct ReplicaLoad(bool IsReady, TimeSpan? TtftP50, int QueueDepth);
