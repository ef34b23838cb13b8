namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>A parsed <c>s3://bucket/prefix</c>; the prefix has no leading or trailing '/' and may be empty.</summary>
internal sealed record S3Location(string Bucket, string Prefix)
{
    public static S3Location Parse(string location)
    {
        var rest = location["s3://".Length..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        if (bucket.Length == 0)
        {
            throw new CheckpointStoreException($"checkpoint store '{location}' has no bucket name; write s3://BUCKET/PREFIX");
        }

        return new S3Location(bucket, prefix);
    }

    /// <summary>The key prefix of one checkpoint, ending in '/'.</summary>
    public string CheckpointPrefix(long step) => (Prefix.Length == 0 ? "" : Prefix + "/") + CheckpointNames.Folder(step) + "/";

    /// <summary>The prefix every checkpoint key starts with.</summary>
    public string ListPrefix => (Prefix.Length == 0 ? "" : Prefix + "/") + CheckpointNames.Prefix;

    public override string ToString() => Prefix.Length == 0 ? $"s3://{Bucket}" : $"s3://{Bucket}/{Prefix}";
}
