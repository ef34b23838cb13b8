using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using WrinkleFree.Replica.Backends;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// The keys a replica started with <c>--api-key-file</c> accepts (one per line; blank lines and <c># comments</c> skipped),
/// checked on every route but <c>/health</c>, the public liveness route the controller probes. Keys are compared by
/// their SHA-256 in constant time, so neither the file's order nor timing tells a caller how close a guess was.
/// </summary>
internal sealed class ReplicaApiKeys
{
    private readonly byte[][] _hashes;

    private ReplicaApiKeys(byte[][] hashes) => _hashes = hashes;

    /// <summary>Reads <paramref name="path"/>; throws <see cref="ArgumentException"/> naming the file when it holds no key.</summary>
    public static ReplicaApiKeys Load(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"the API key file '{path}' cannot be read: {e.Message}", nameof(ReplicaOptions.ApiKeyFile), e);
        }
        var keys = lines.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        if (keys.Length == 0)
            throw new ArgumentException($"the API key file '{path}' holds no key: put one key per line", nameof(ReplicaOptions.ApiKeyFile));
        return new ReplicaApiKeys([.. keys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k)))]);
    }

    /// <summary>The error to answer for a request's Authorization header, or null when it carries a known key.</summary>
    public BackendException? Check(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || authorization.Length <= "Bearer ".Length)
            return new BackendException(401, "invalid_request_error", "This replica needs an API key: send the header 'Authorization: Bearer KEY'.", null, "missing_api_key");
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorization["Bearer ".Length..].Trim()));
        var known = false;
        foreach (var hash in _hashes)
            known |= CryptographicOperations.FixedTimeEquals(hash, presented);
        return known ? null : new BackendException(401, "invalid_request_error", "The API key is not one this replica accepts.", null, "invalid_api_key");
    }

    /// <summary>The middleware: every route but /health needs a key.</summary>
    public async Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        // ReplicaContext.InWarmUp: the replica's own warm-up request, let through by the outer middleware's check of its secret.
        if (http.Request.Path != Routes.Health && !ReplicaContext.InWarmUp && Check(http.Request.Headers.Authorization) is { } refused)
        {
            await ApiErrors.WriteAsync(http, refused).ConfigureAwait(false);
            return;
        }
        await next(http).ConfigureAwait(false);
    }
}
