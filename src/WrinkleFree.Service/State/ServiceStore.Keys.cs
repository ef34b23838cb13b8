using Microsoft.Data.Sqlite;
using WrinkleFree.Service.Security;
using static WrinkleFree.Platform.Storage.SqliteStore;

namespace WrinkleFree.Service.State;

/// <summary>The API keys part of the state: stored hashed (<see cref="ApiKeySecret.Hash"/>), revoked but never deleted.</summary>
public sealed partial class ServiceStore
{
    /// <summary>Stores a new key given its id and hash; throws <see cref="ServiceStoreException"/> if the id is taken.</summary>
    public Task<ApiKeyRecord> CreateApiKeyAsync(string id, string hash, NewApiKey key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentException.ThrowIfNullOrEmpty(hash);
        ArgumentNullException.ThrowIfNull(key);
        return InTransactionAsync(async (tx, now) =>
        {
            if (await ScalarAsync(tx, "SELECT 1 FROM api_keys WHERE id = $id OR hash = $hash", cancellationToken, ("$id", id), ("$hash", hash)).ConfigureAwait(false) is not null)
                throw new ServiceStoreException($"an API key with id {id} already exists");
            await ExecuteAsync(tx, """
                INSERT INTO api_keys (id, hash, name, service, rpm, tpm, concurrency, expires_at, created_at, revoked_at)
                VALUES ($id, $hash, $name, $service, $rpm, $tpm, $concurrency, $expires, $now, NULL)
                """, cancellationToken, ("$id", id), ("$hash", hash), ("$name", key.Name), ("$service", key.Service), ("$rpm", key.Rpm),
                ("$tpm", key.Tpm), ("$concurrency", key.Concurrency), ("$expires", ToUnixMs(key.ExpiresAt)), ("$now", now)).ConfigureAwait(false);
            return (await QueryAsync(tx, "SELECT * FROM api_keys WHERE id = $id", ReadApiKey, cancellationToken, ("$id", id)).ConfigureAwait(false))[0];
        }, cancellationToken);
    }

    /// <summary>Every key (revoked ones too), oldest first; with <paramref name="service"/>, those that apply to it.</summary>
    public Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(string? service, CancellationToken cancellationToken) =>
        ReadAsync(tx => QueryAsync(
            tx,
            "SELECT * FROM api_keys WHERE $service IS NULL OR service IS NULL OR service = $service ORDER BY created_at, id",
            ReadApiKey,
            cancellationToken,
            ("$service", service)), cancellationToken);

    /// <summary>Marks a key revoked (once; revoking again keeps the first time); null when there is no such key.</summary>
    public Task<ApiKeyRecord?> RevokeApiKeyAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        return InTransactionAsync(async (tx, now) =>
        {
            await ExecuteAsync(tx, "UPDATE api_keys SET revoked_at = $now WHERE id = $id AND revoked_at IS NULL", cancellationToken, ("$id", id), ("$now", now)).ConfigureAwait(false);
            var rows = await QueryAsync(tx, "SELECT * FROM api_keys WHERE id = $id", ReadApiKey, cancellationToken, ("$id", id)).ConfigureAwait(false);
            return rows.Count > 0 ? rows[0] : null;
        }, cancellationToken);
    }

    private static ApiKeyRecord ReadApiKey(SqliteDataReader r) => new()
    {
        Id = r.GetString(r.GetOrdinal("id")),
        Hash = r.GetString(r.GetOrdinal("hash")),
        Name = NullableString(r, "name"),
        Service = NullableString(r, "service"),
        Rpm = (int?)NullableInt64(r, "rpm"),
        Tpm = (int?)NullableInt64(r, "tpm"),
        Concurrency = (int?)NullableInt64(r, "concurrency"),
        ExpiresAt = NullableTime(r, "expires_at"),
        CreatedAt = FromUnixMs(r.GetInt64(r.GetOrdinal("created_at"))),
        RevokedAt = NullableTime(r, "revoked_at"),
    };
}
