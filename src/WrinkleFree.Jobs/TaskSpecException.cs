using WrinkleFree.Platform.Specs;

namespace WrinkleFree.Jobs;

/// <summary>A task YAML that cannot be used: names the key path and, when known, the line and column of the offending node.</summary>
public sealed class TaskSpecException : Exception
{
    /// <summary>Creates the error; <paramref name="line"/> and <paramref name="column"/> are 1-based, 0 when unknown.</summary>
    public TaskSpecException(string keyPath, int line, int column, string detail, string? sourceName = null)
        : base(SpecErrorText.Format(keyPath, line, column, detail, sourceName, "task"))
    {
        KeyPath = keyPath;
        Line = line;
        Column = column;
        Detail = detail;
    }

    /// <summary>Dotted path of the offending key (<c>train.stage</c>); empty for document-level errors.</summary>
    public string KeyPath { get; }

    /// <summary>1-based line, 0 when unknown.</summary>
    public int Line { get; }

    /// <summary>1-based column, 0 when unknown.</summary>
    public int Column { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Detail { get; }
}
