using System.Text.Json.Serialization;

namespace WrinkleFree.Service.Security;

/// <summary>An API key as stored: its id, hash, scope, limits and life; never the key itself.</summary>
public sealed record ApiKeyRecord
{
    /// <summary>The key's public prefix (the characters after <c>wf-</c>).</summary>
    public required string Id { get; init; }

    /// <summary>The SHA-256 of the key (<see cref="ApiKeySecret.Hash"/>); not shown to users.</summary>
    [JsonIgnore]
    public string Hash { get; init; } = "";

    public string? Name { get; init; }

    /// <summary>The one service the key is for; null: every service.</summary>
    public string? Service { get; init; }

    /// <summary>Requests per minute; null: no limit.</summary>
    public int? Rpm { get; init; }

    /// <summary>Tokens (prompt + completion) per minute; null: no limit.</summary>
    public int? Tpm { get; init; }

    /// <summary>Requests in flight at once; null: no limit.</summary>
    public int? Concurrency { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>Whether the key applies to <paramref name="service"/> (revoked or not).</summary>
    public bool AppliesTo(string service) => Service is null || string.Equals(Service, service, StringComparison.Ordinal);
}
