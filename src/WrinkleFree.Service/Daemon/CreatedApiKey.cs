namespace WrinkleFree.Service.Daemon;

/// <summary>The answer to POST /keys: the new key (shown this once; only its hash is stored) and what was stored.</summary>
public sealed record CreatedApiKey
{
    public required string Key { get; init; }

    public required Security.ApiKeyRecord Record { get; init; }
}
