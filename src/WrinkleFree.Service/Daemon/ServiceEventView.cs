using System.Text.Json;
using WrinkleFree.Service.State;

namespace WrinkleFree.Service.Daemon;

/// <summary>One event in the admin API's answers (`wf events --json`, the status page); details as a JSON object.</summary>
public sealed record ServiceEventView
{
    public required long Id { get; init; }

    public required string Service { get; init; }

    public required DateTimeOffset At { get; init; }

    public required string Kind { get; init; }

    public required string Message { get; init; }

    public int? ReplicaId { get; init; }

    public JsonElement? Details { get; init; }

    /// <summary>The view of a stored event.</summary>
    public static ServiceEventView From(ServiceEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        JsonElement? details = null;
        if (e.Details is { } json)
        {
            using var doc = JsonDocument.Parse(json);
            details = doc.RootElement.Clone();
        }
        return new ServiceEventView { Id = e.Id, Service = e.Service, At = e.At, Kind = e.Kind, Message = e.Message, ReplicaId = e.ReplicaId, Details = details };
    }
}
