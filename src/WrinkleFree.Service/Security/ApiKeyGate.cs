using System.Collections.Concurrent;
using System.Collections.Frozen;

namespace WrinkleFree.Service.Security;

/// <summary>
/// The API key check of one service endpoint: which keys exist (swapped whole, atomically, by <see cref="Update"/>) and
/// each key's use against its limits. Missing or unknown key: 401; revoked, expired or another service's key: 403;
/// over a limit: 429 with Retry-After and the limit named. A service no key applies to is open.
/// </summary>
public sealed class ApiKeyGate
{
    private readonly string _service;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, KeyUsage> _usage = new(StringComparer.Ordinal);
    private volatile Snapshot _snapshot;

    /// <summary>A gate for <paramref name="service"/> with the keys of <paramref name="auth"/>.</summary>
    public ApiKeyGate(string service, EndpointAuth auth, TimeProvider time)
    {
        (_service, _time) = (service, time);
        _snapshot = new Snapshot(auth, service);
    }

    /// <summary>Whether every request is let in because no key applies to the service.</summary>
    public bool IsOpen => !_snapshot.Required;

    /// <summary>The key to send to replicas, or null.</summary>
    public string? ReplicaKey => _snapshot.Auth.ReplicaKey;

    /// <summary>The keys in force (as last given).</summary>
    public EndpointAuth Auth => _snapshot.Auth;

    /// <summary>Replaces the key set for requests arriving from now on; a revoked key's next request is refused.</summary>
    public void Update(EndpointAuth auth)
    {
        ArgumentNullException.ThrowIfNull(auth);
        _snapshot = new Snapshot(auth, _service);
    }

    /// <summary>Requests in flight with key <paramref name="id"/> (for tests and diagnostics).</summary>
    internal int InFlight(string id) => _usage.TryGetValue(id, out var usage) ? usage.InFlight : 0;

    /// <summary>
    /// Checks the Authorization header of a request; <paramref name="internalAllowed"/> lets the daemon's replica key in
    /// too (the endpoint's /metrics, for Prometheus).
    /// </summary>
    internal KeyAdmission Admit(string? authorization, bool internalAllowed = false)
    {
        var snapshot = _snapshot;
        if (!snapshot.Required)
            return KeyAdmission.Allowed(null, null);
        if (!TryBearer(authorization, out var presented))
        {
            return KeyAdmission.Refused(401, "missing_api_key",
                $"This service needs an API key: send the header 'Authorization: Bearer KEY' (`wf keys create --service {_service}` makes one).");
        }
        if (internalAllowed && ApiKeySecret.SecretEquals(presented, snapshot.Auth.ReplicaKey))
            return KeyAdmission.Allowed(null, null);
        if (!snapshot.ByHash.TryGetValue(ApiKeySecret.Hash(presented), out var key))
        {
            return KeyAdmission.Refused(401, "invalid_api_key",
                "The API key is not known to this service; check it, or make one with `wf keys create`.");
        }
        if (key.Revoked)
            return KeyAdmission.Refused(403, "revoked_api_key", $"The API key {key.Id} has been revoked.");
        var now = _time.GetUtcNow();
        if (key.ExpiresAt is { } expires && expires <= now)
            return KeyAdmission.Refused(403, "expired_api_key", $"The API key {key.Id} expired at {expires:yyyy-MM-ddTHH:mm:ssZ}.");
        if (key.Service is { } only && only != _service)
            return KeyAdmission.Refused(403, "wrong_service", $"The API key {key.Id} is for service '{only}', not '{_service}'.");
        var usage = _usage.GetOrAdd(key.Id, _ => new KeyUsage());
        var (admitted, limit, retryAfter) = usage.TryAcquire(key, now.ToUnixTimeMilliseconds());
        if (!admitted)
        {
            return KeyAdmission.Refused(429, "rate_limit_exceeded",
                $"rate limit: {limit} for key {key.Id}; retry after {Math.Ceiling(retryAfter.TotalSeconds):0} s.", retryAfter, "rate_limit_error");
        }
        return KeyAdmission.Allowed(key, usage);
    }

    /// <summary>Ends an admitted request: frees its concurrency slot and counts its tokens in the key's minute.</summary>
    internal void Release(KeyAdmission admission, long tokens) =>
        admission.Usage?.Release(tokens, _time.GetUtcNow().ToUnixTimeMilliseconds());

    private static bool TryBearer(string? header, out string token)
    {
        token = "";
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return false;
        token = header["Bearer ".Length..].Trim();
        return token.Length > 0;
    }

    private sealed class Snapshot(EndpointAuth auth, string service)
    {
        public EndpointAuth Auth { get; } = auth;

        public bool Required { get; } = auth.Requires(service);

        public FrozenDictionary<string, EndpointKey> ByHash { get; } = auth.Keys.ToFrozenDictionary(k => k.Hash, StringComparer.Ordinal);
    }
}
