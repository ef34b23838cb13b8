namespace WrinkleFree.Service.State;

/// <summary>A service as stored: its current spec and version, status and where its endpoint listens.</summary>
/// <remarks>Status is the SkyServe service status name (CONTROLLER_INIT, READY, NO_REPLICA...), stored as text.</remarks>
public sealed record ServiceRecord
{
    public required string Name { get; init; }

    public required string SpecYaml { get; init; }

    public required int CurrentVersion { get; init; }

    public required string Status { get; init; }

    public string? Endpoint { get; init; }

    public int? Port { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}
