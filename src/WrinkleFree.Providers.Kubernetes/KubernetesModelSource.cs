using System.Globalization;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Kubernetes;

/// <summary>
/// Where a pod finds its model (<c>settings.model</c>): a file on a PersistentVolumeClaim (<c>pvc://CLAIM/path</c>), or
/// an object fetched into the pod by an init container and checked against its sha256
/// (<c>{url: s3://bucket/key, sha256: HEX}</c>).
/// </summary>
public sealed record KubernetesModelSource
{
    /// <summary>The claim holding the model (pvc sources).</summary>
    public string? Claim { get; init; }

    /// <summary>The model's path inside the claim (pvc sources).</summary>
    public string? PathInClaim { get; init; }

    /// <summary>The s3:// URL of the model (fetched sources).</summary>
    public string? S3Url { get; init; }

    /// <summary>The model's sha256, lowercase hex (fetched sources): a download that does not match fails the pod.</summary>
    public string? Sha256 { get; init; }

    /// <summary>Reads <c>settings.model</c>; throws <see cref="ServiceSpecException"/> at <paramref name="keyPath"/> when it is neither form.</summary>
    public static KubernetesModelSource Parse(object value, string keyPath)
    {
        const string Forms = "give pvc://CLAIM/path/to/model.gguf, or {url: s3://bucket/key.gguf, sha256: HEX}";
        if (value is string text)
        {
            if (!text.StartsWith("pvc://", StringComparison.Ordinal))
                throw new ServiceSpecException(keyPath, $"'{text}' is not a model source; {Forms} (an s3 model needs its sha256, so it is a map)");
            var rest = text["pvc://".Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || slash == rest.Length - 1 || rest.Contains("..", StringComparison.Ordinal))
                throw new ServiceSpecException(keyPath, $"'{text}' names no file in the claim; {Forms}");
            return new KubernetesModelSource { Claim = rest[..slash], PathInClaim = rest[(slash + 1)..] };
        }

        if (value is not IReadOnlyDictionary<string, object?> map)
            throw new ServiceSpecException(keyPath, Forms);
        if (map.Keys.FirstOrDefault(k => k is not ("url" or "sha256")) is { } unknown)
            throw new ServiceSpecException($"{keyPath}.{unknown}", "unknown model field; known: url, sha256");
        if (map.GetValueOrDefault("url") is not string url || !url.StartsWith("s3://", StringComparison.Ordinal) || url.Length <= "s3://".Length)
            throw new ServiceSpecException($"{keyPath}.url", "must be an s3://bucket/key URL (a pvc model is written as the string pvc://CLAIM/path)");
        if (map.GetValueOrDefault("sha256") is not string sha || sha.Length != 64 || !sha.All(char.IsAsciiHexDigit))
            throw new ServiceSpecException($"{keyPath}.sha256", "must be the model's sha256 as 64 hex digits (`sha256sum model.gguf`)");
        return new KubernetesModelSource { S3Url = url, Sha256 = sha.ToLower(CultureInfo.InvariantCulture) };
    }
}
