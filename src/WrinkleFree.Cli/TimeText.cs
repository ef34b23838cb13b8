using System.Globalization;

namespace WrinkleFree.Cli;

/// <summary>Times as users type them on the command line: a duration (<c>30d</c>, <c>12h</c>, <c>90m</c>, <c>45s</c>) or an ISO 8601 time.</summary>
internal static class TimeText
{
    /// <summary>A whole number and one unit (d, h, m, s), at most 100 years; null for anything else.</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        text = text.Trim();
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
            return null;
        var seconds = text[^1] switch
        {
            'd' => 86_400L,
            'h' => 3_600L,
            'm' => 60L,
            's' => 1L,
            _ => 0L,
        };
        return seconds > 0 && n <= 36_500L * 86_400 / seconds ? TimeSpan.FromSeconds(n * seconds) : null;
    }

    /// <summary>An ISO 8601 time, UTC unless it says otherwise; null when it is not one.</summary>
    public static DateTimeOffset? ParseTime(string text) =>
        DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : null;

    /// <summary>A time as tables show it.</summary>
    public static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);
}
