namespace WrinkleFree.Platform.Specs;

/// <summary>
/// The message of a YAML spec error (service specs and job task YAML both use it):
/// "source: key.path (line L, column C): detail", leaving out what is unknown.
/// </summary>
public static class SpecErrorText
{
    /// <summary><paramref name="document"/> names the whole document when neither key nor position is known.</summary>
    public static string Format(string keyPath, int line, int column, string detail, string? sourceName, string document)
    {
        var position = line > 0 ? $"line {line}, column {column}" : null;
        var location = (keyPath.Length > 0, position is not null) switch
        {
            (true, true) => $"{keyPath} ({position})",
            (true, false) => keyPath,
            (false, true) => position!,
            _ => document,
        };
        return sourceName is null ? $"{location}: {detail}" : $"{sourceName}: {location}: {detail}";
    }
}
