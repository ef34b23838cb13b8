using System.Text.Json;

namespace WrinkleFree.Cli;

/// <summary>One JSON style for every <c>--json</c> output.</summary>
public static class CliJson
{
    public static readonly JsonSerializerOptions Options = new() { WriteIndented = true };
}
