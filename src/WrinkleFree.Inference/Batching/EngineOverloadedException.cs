namespace WrinkleFree.Inference.Batching;

/// <summary>The engine's wait queue is full; callers should retry later (HTTP 429).</summary>
public sealed class EngineOverloadedException(int queued) : Exception($"the engine queue is full ({queued} requests waiting); retry later")
{
    public int Queued { get; } = queued;
}
