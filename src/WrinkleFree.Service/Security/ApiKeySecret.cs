using System.Security.Cryptography;
using System.Text;

namespace WrinkleFree.Service.Security;

/// <summary>
/// The API key format: <c>wf-</c> followed by 32 random bytes in base64url (43 characters). The first
/// <see cref="IdLength"/> characters after <c>wf-</c> are the key's id, shown by <c>wf keys list</c>; the rest stays secret.
/// </summary>
public static class ApiKeySecret
{
    /// <summary>What every key starts with, so a leaked one is recognisable (secret scanners, logs).</summary>
    public const string Prefix = "wf-";

    /// <summary>Characters of the key, after the prefix, that form its public id.</summary>
    public const int IdLength = 8;

    private const int SecretBytes = 32;

    /// <summary>A new key and its id and hash; the key itself is shown once and never stored.</summary>
    public static (string Key, string Id, string Hash) Generate()
    {
        var key = Prefix + Base64Url(RandomNumberGenerator.GetBytes(SecretBytes));
        return (key, IdOf(key), Hash(key));
    }

    /// <summary>The id (public prefix) of a well-formed key.</summary>
    public static string IdOf(string key) => key.Substring(Prefix.Length, IdLength);

    /// <summary>
    /// The stored form of a key: lowercase hex SHA-256 of its UTF-8 bytes. A plain, unsalted, fast hash is right here and
    /// not a password hash: a key has 256 bits of randomness, so neither a dictionary nor a brute-force search over the
    /// hash can find it, and salting or stretching would only make the per-request check slower without adding safety.
    /// </summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>True when <paramref name="text"/> has the shape of a key (prefix, length, base64url alphabet).</summary>
    public static bool IsWellFormed(string? text)
    {
        if (text is null || text.Length != Prefix.Length + 43 || !text.StartsWith(Prefix, StringComparison.Ordinal))
            return false;
        foreach (var c in text.AsSpan(Prefix.Length))
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                return false;
        }
        return true;
    }

    /// <summary>A random token for internal use (the admin token, the replicas' key): 32 bytes in base64url.</summary>
    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>Compares two secrets in time independent of where they differ.</summary>
    public static bool SecretEquals(string? a, string? b) =>
        a is not null && b is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
