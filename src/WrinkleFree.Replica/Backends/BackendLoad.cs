namespace WrinkleFree.Replica.Backends;

/// <summary>A snapshot of a backend's load.</summary>
/// <param name="ActiveRequests">Sequences being generated now.</param>
/// <param name="QueueDepth">Requests waiting for a slot.</param>
/// <param name="WeightBytesStreamed">Monotonic count of weight bytes read by forward steps (bitnet), 0 when unknown.</param>
public readonly record struct BackendLoad(int ActiveRequests, int QueueDepth, long WeightBytesStreamed);
