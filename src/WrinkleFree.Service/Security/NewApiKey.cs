namespace WrinkleFree.Service.Security;

/// <summary>What `wf keys create` asks for: scope, limits and expiry of a new key (the daemon generates the key).</summary>
public sealed record NewApiKey
{
    /// <summary>Highest rpm, tpm or concurrency a key may have: large enough for any real limit, far from overflow.</summary>
    public const int MaxLimit = 100_000_000;

    /// <summary>Longest name a key may have.</summary>
    public const int MaxNameLength = 200;

    public string? Name { get; init; }

    public string? Service { get; init; }

    public int? Rpm { get; init; }

    public int? Tpm { get; init; }

    public int? Concurrency { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The first invalid field as a message naming it, or null when every field is valid.</summary>
    public string? Problem(DateTimeOffset now)
    {
        if (Name is { } name && (name.Length > MaxNameLength || name.Any(char.IsControl)))
            return $"name must be at most {MaxNameLength} characters without control characters";
        foreach (var (field, value) in new[] { ("rpm", Rpm), ("tpm", Tpm), ("concurrency", Concurrency) })
        {
            if (value is < 1 or > MaxLimit)
                return $"{field} must be 1..{MaxLimit}, got {value}; leave it out for no limit";
        }
        if (ExpiresAt is { } expires && expires <= now)
            return $"expires_at {expires:yyyy-MM-ddTHH:mm:ssZ} is not in the future";
        return null;
    }
}
