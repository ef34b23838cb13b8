using YamlDotNet.Core;

namespace WrinkleFree.Platform.Specs;

/// <summary>A YAML document refused by <see cref="YamlLimits"/> before it was parsed: too large, too deep, or too many aliases.</summary>
public sealed class YamlLimitException(Mark start, string detail) : Exception(detail)
{
    /// <summary>Where the document went over the limit (line and column are 1-based).</summary>
    public Mark Start { get; } = start;

    /// <summary>What is wrong and what to do, without the position.</summary>
    public string Detail { get; } = detail;
}
