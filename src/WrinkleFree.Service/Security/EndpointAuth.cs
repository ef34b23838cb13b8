namespace WrinkleFree.Service.Security;

/// <summary>
/// What a service endpoint needs to check keys: every stored key (by hash, with its scope, limits and state) and the
/// daemon's internal key it sends to replicas instead of the client's. The daemon sends it whole at the endpoint's start
/// and after every `wf keys create` or `revoke`.
/// </summary>
public sealed record EndpointAuth
{
    /// <summary>Every stored key, revoked ones included (so they answer 403, not 401).</summary>
    public List<EndpointKey> Keys { get; init; } = [];

    /// <summary>The key replicas launched by the daemon require (WF_HOME/replica.key); null: replicas ask for none.</summary>
    public string? ReplicaKey { get; init; }

    /// <summary>No key at all: the endpoint accepts every request (and says so loudly).</summary>
    public static EndpointAuth Open { get; } = new();

    /// <summary>The keys of <paramref name="records"/> as the endpoint sees them.</summary>
    public static EndpointAuth From(IEnumerable<ApiKeyRecord> records, string? replicaKey) => new()
    {
        Keys = [.. records.Select(EndpointKey.From)],
        ReplicaKey = replicaKey,
    };

    /// <summary>
    /// Whether <paramref name="service"/> needs a key: yes as soon as one key, even a revoked or expired one, applies to
    /// it, so revoking the last key never opens the service again.
    /// </summary>
    public bool Requires(string service) => Keys.Any(k => k.Service is null || k.Service == service);
}
