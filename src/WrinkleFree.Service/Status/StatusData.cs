using WrinkleFree.Service.Daemon;

namespace WrinkleFree.Service.Status;

/// <summary>What GET /status/data.json answers and the status page draws: every service and the latest events.</summary>
public sealed record StatusData
{
    public required DateTimeOffset GeneratedAt { get; init; }

    /// <summary>How far back the charts reach, in seconds.</summary>
    public required int HistorySeconds { get; init; }

    /// <summary>Services by name.</summary>
    public required IReadOnlyList<StatusServiceData> Services { get; init; }

    /// <summary>The latest events of all services, newest first.</summary>
    public required IReadOnlyList<ServiceEventView> Events { get; init; }
}
