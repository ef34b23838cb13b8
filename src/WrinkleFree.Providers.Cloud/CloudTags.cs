using System.Globalization;

namespace WrinkleFree.Providers.Cloud;

/// <summary>The tags (GCP labels) every replica instance carries: how adoption and leak checks find and recognise it.</summary>
public static class CloudTags
{
    public const string Service = "wrinklefree-service";
    public const string Replica = "wrinklefree-replica";
    public const string Version = "wrinklefree-version";
    public const string Tier = "wrinklefree-tier";

    /// <summary>The four tags of one replica's instance.</summary>
    public static Dictionary<string, string> Of(string service, int replicaId, int version, string tier) => new(StringComparer.Ordinal)
    {
        [Service] = service,
        [Replica] = replicaId.ToString(CultureInfo.InvariantCulture),
        [Version] = version.ToString(CultureInfo.InvariantCulture),
        [Tier] = tier,
    };
}
