namespace WrinkleFree.Service.Security;

/// <summary>One key as an endpoint checks it: no secret, only the hash a presented key must match.</summary>
public sealed record EndpointKey
{
    public required string Id { get; init; }

    public required string Hash { get; init; }

    public string? Service { get; init; }

    public int? Rpm { get; init; }

    public int? Tpm { get; init; }

    public int? Concurrency { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public bool Revoked { get; init; }

    public static EndpointKey From(ApiKeyRecord r) => new()
    {
        Id = r.Id,
        Hash = r.Hash,
        Service = r.Service,
        Rpm = r.Rpm,
        Tpm = r.Tpm,
        Concurrency = r.Concurrency,
        ExpiresAt = r.ExpiresAt,
        Revoked = r.RevokedAt is not null,
    };
}
