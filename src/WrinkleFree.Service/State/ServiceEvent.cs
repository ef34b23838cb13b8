namespace WrinkleFree.Service.State;

/// <summary>
/// One entry of a service's event log (what `wf events` and the status page show). The store assigns <see cref="Id"/>
/// (increasing in commit order) and, when left default, <see cref="At"/>; build events with <see cref="ServiceEvents"/>.
/// </summary>
public sealed record ServiceEvent
{
    /// <summary>Assigned by the store; 0 on an event not stored yet.</summary>
    public long Id { get; init; }

    public required string Service { get; init; }

    /// <summary>When it happened; default means "when stored".</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>One of <see cref="ServiceEventKinds"/>, or a caller's own kind.</summary>
    public required string Kind { get; init; }

    /// <summary>One line for people, e.g. "1 → 3 replicas: QPS 12.3 > 2 replicas × 5.0".</summary>
    public required string Message { get; init; }

    /// <summary>The replica the event is about, if any.</summary>
    public int? ReplicaId { get; init; }

    /// <summary>A JSON object with the numbers behind the message, for scripts (`wf events --json`), or null.</summary>
    public string? Details { get; init; }
}
