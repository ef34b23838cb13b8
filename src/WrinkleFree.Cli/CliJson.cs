using System.Text.Json;

namespace WrinkleFree.Cli;

/// <summary>One JSON style for every <c>--json</c> output.</summary>
public static class CliJson
{
    public static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    /// <summary>For records printed as the daemon's API writes them: snake_case names, nulls left out.</summary>
    public static readonly JsonSerializerOptions SnakeCase = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };
}
