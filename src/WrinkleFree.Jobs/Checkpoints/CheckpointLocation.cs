namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// A parsed object-store location: <c>s3://bucket/prefix</c>, <c>r2://ACCOUNT/bucket/prefix</c>, <c>gs://bucket/prefix</c> or
/// <c>az://account/container/prefix</c>. <see cref="Bucket"/> is the bucket or container; the prefix has no leading or
/// trailing '/' and may be empty.
/// </summary>
internal sealed record CheckpointLocation(string Scheme, string? Account, string Bucket, string Prefix)
{
    /// <summary>The one line every unsupported location gets, so a typo shows what would have worked.</summary>
    public const string Supported = "a folder path, s3://bucket/prefix, r2://ACCOUNT/bucket/prefix, gs://bucket/prefix or az://account/container/prefix";

    /// <summary>The scheme of an object-store location ("s3", "r2", "gs", "az"), or null for anything else.</summary>
    public static string? SchemeOf(string location)
    {
        var end = location.IndexOf("://", StringComparison.Ordinal);
        return end < 0 ? null : location[..end].ToLowerInvariant() is var scheme && scheme is "s3" or "r2" or "gs" or "az" ? scheme : null;
    }

    /// <summary>Why <paramref name="location"/> is no checkpoint store, or null when it is a folder path or a complete object-store URL.</summary>
    public static string? Problem(string location)
    {
        try
        {
            _ = location.Contains("://", StringComparison.Ordinal) ? Parse(location) : null;
            return null;
        }
        catch (CheckpointStoreException e)
        {
            return e.Message;
        }
    }

    public static CheckpointLocation Parse(string location)
    {
        var scheme = SchemeOf(location)
            ?? throw new CheckpointStoreException($"checkpoint store '{location}' is not supported; use {Supported}");
        var parts = location[(scheme.Length + 3)..].Split('/', 2);
        // r2 and az name an account before the bucket (R2's endpoint and Azure's host are per account); s3 and gs do not.
        var hasAccount = scheme is "r2" or "az";
        var account = hasAccount ? parts[0] : null;
        var rest = hasAccount ? (parts.Length > 1 ? parts[1] : "").Split('/', 2) : parts;
        var bucket = rest[0];
        var prefix = rest.Length > 1 ? rest[1].Trim('/') : "";
        var bucketWord = scheme == "az" ? "container" : "bucket";
        var form = scheme switch
        {
            "r2" => "r2://ACCOUNT/BUCKET/PREFIX",
            "az" => "az://ACCOUNT/CONTAINER/PREFIX",
            _ => $"{scheme}://BUCKET/PREFIX",
        };
        if (account is { Length: 0 })
        {
            throw new CheckpointStoreException($"checkpoint store '{location}' has no account name; write {form}");
        }

        if (bucket.Length == 0)
        {
            throw new CheckpointStoreException($"checkpoint store '{location}' has no {bucketWord} name; write {form}");
        }

        return new CheckpointLocation(scheme, account, bucket, prefix);
    }

    /// <summary>The key prefix of one checkpoint, ending in '/'.</summary>
    public string CheckpointPrefix(long step) => (Prefix.Length == 0 ? "" : Prefix + "/") + CheckpointNames.Folder(step) + "/";

    /// <summary>The prefix every checkpoint key starts with.</summary>
    public string ListPrefix => (Prefix.Length == 0 ? "" : Prefix + "/") + CheckpointNames.Prefix;

    /// <summary>The URL of one object, for messages.</summary>
    public string Describe(string key) => $"{Root}/{key}";

    public override string ToString() => Prefix.Length == 0 ? Root : $"{Root}/{Prefix}";

    private string Root => Account is null ? $"{Scheme}://{Bucket}" : $"{Scheme}://{Account}/{Bucket}";
}
