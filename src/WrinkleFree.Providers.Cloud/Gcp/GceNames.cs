using System.Text.RegularExpressions;

namespace WrinkleFree.Providers.Cloud.Gcp;

/// <summary>GCE's naming rules, checked before a call so that a bad name is an error naming the field, not a 400 later.</summary>
internal static partial class GceNames
{
    public static bool IsProjectId(string value) => ProjectId().IsMatch(value);

    public static bool IsZone(string value) => Zone().IsMatch(value);

    public static bool IsRegion(string value) => Region().IsMatch(value);

    public static void RequireZone(string value, string field)
    {
        if (string.IsNullOrEmpty(value) || !IsZone(value))
            throw new ArgumentException($"gcp: {field} '{value}' is not a GCE zone (like us-central1-a)", field);
    }

    public static void RequireInstanceName(string value, string field)
    {
        if (string.IsNullOrEmpty(value) || !InstanceName().IsMatch(value))
            throw new ArgumentException($"gcp: {field} '{value}' is not a GCE instance name (1-63 lower-case letters, digits and hyphens, starting with a letter, not ending with a hyphen)", field);
    }

    /// <summary>GCE label rules; tags are the seam's word for labels, and GCE refuses what these reject.</summary>
    public static void RequireLabels(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in labels)
        {
            if (!LabelKey().IsMatch(key))
                throw new ArgumentException($"gcp: label key '{key}' is not a GCE label key (1-63 lower-case letters, digits, '_' or '-', starting with a letter)", nameof(labels));
            if (!LabelValue().IsMatch(value))
                throw new ArgumentException($"gcp: label {key}='{value}' is not a GCE label value (0-63 lower-case letters, digits, '_' or '-')", nameof(labels));
        }
    }

    [GeneratedRegex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$")]
    private static partial Regex ProjectId();

    [GeneratedRegex("^[a-z]+-[a-z]+[0-9]+-[a-z]$")]
    private static partial Regex Zone();

    [GeneratedRegex("^[a-z]+-[a-z]+[0-9]+$")]
    private static partial Regex Region();

    [GeneratedRegex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex InstanceName();

    [GeneratedRegex("^[a-z][-_a-z0-9]{0,62}$")]
    private static partial Regex LabelKey();

    [GeneratedRegex("^[-_a-z0-9]{0,63}$")]
    private static partial Regex LabelValue();
}
