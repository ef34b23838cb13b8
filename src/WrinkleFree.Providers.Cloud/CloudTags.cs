using System.Globalization;

namespace WrinkleFree.Providers.Cloud;

/// <summary>The tags (GCP labels) every replica instance carries: how adoption and leak checks find and recognise it.</summary>
public static class CloudTags
{
    public const string Service = "wrinklefree-service";
    public const string Replica = "wrinklefree-replica";
    public const string Version = "wrinklefree-version";
    public const string Tier = "wrinklefree-tier";

    /// <summary>The four tags of one replica's instance, as values both clouds take (see <see cref="Label"/>).</summary>
    public static Dictionary<string, string> Of(string service, int replicaId, int version, string tier) => new(StringComparer.Ordinal)
    {
        [Service] = Label(service),
        [Replica] = replicaId.ToString(CultureInfo.InvariantCulture),
        [Version] = version.ToString(CultureInfo.InvariantCulture),
        [Tier] = Label(tier),
    };

    /// <summary>
    /// <paramref name="text"/> as a GCE label value and instance name: lower case, letters, digits and '-' only (anything
    /// else becomes '-'), at most 63 characters. EC2 takes these as they are, so both clouds carry the same tags.
    /// </summary>
    public static string Label(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var chars = text.ToLowerInvariant().Select(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-' ? c : '-').ToArray();
        var label = new string(chars);
        return label.Length <= 63 ? label : label[..63].TrimEnd('-');
    }
}
