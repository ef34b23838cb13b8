namespace WrinkleFree.Cli;

/// <summary>Human formats shared by every table the CLI prints.</summary>
public static class CliFormat
{
    /// <summary>A duration in its two largest units, as status tables show ages: "2d 3h", "4h 5m", "6m 7s", "8s".</summary>
    public static string Duration(TimeSpan t) => t.TotalDays >= 1 ? $"{(int)t.TotalDays}d {t.Hours}h"
        : t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes}m"
        : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m {t.Seconds}s"
        : $"{Math.Max(0, (int)t.TotalSeconds)}s";
}
