namespace WrinkleFree.Jobs;

/// <summary>SkyPilot's names for <see cref="JobStatus"/> values (PENDING, FAILED_SETUP, ...) and which states are final.</summary>
public static class JobStatusNames
{
    private static readonly Dictionary<JobStatus, string> Names = Enum.GetValues<JobStatus>().ToDictionary(s => s, Screaming);
    private static readonly Dictionary<string, JobStatus> Values = Names.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    /// <summary>The SkyPilot name, e.g. <c>FAILED_NO_RESOURCE</c>.</summary>
    public static string ToName(this JobStatus status) => Names[status];

    /// <summary>Parses a SkyPilot name; throws for anything else.</summary>
    public static JobStatus Parse(string name) => Values.TryGetValue(name, out var status)
        ? status
        : throw new FormatException($"'{name}' is not a job status; expected one of {string.Join(", ", Values.Keys)}");

    /// <summary>True for the states a job never leaves (succeeded, cancelled, every failure).</summary>
    public static bool IsTerminal(this JobStatus status) => status >= JobStatus.Succeeded;

    private static string Screaming(JobStatus status) =>
        string.Concat(status.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : char.ToUpperInvariant(c).ToString()));
}
