using WrinkleFree.Platform.Specs;

namespace WrinkleFree.Service.Spec;

/// <summary>
/// A service spec that cannot be used: names the key path (e.g. <c>service.replica_policy.max_replicas</c>) and, when the spec
/// came from YAML, the line and column of the offending node.
/// </summary>
public sealed class ServiceSpecException : Exception
{
    /// <summary>Creates an error for <paramref name="keyPath"/>; line and column are 1-based, 0 when unknown.</summary>
    public ServiceSpecException(string keyPath, int line, int column, string detail, string? sourceName = null, Exception? inner = null)
        : base(SpecErrorText.Format(keyPath, line, column, detail, sourceName, "spec"), inner)
    {
        KeyPath = keyPath;
        Line = line;
        Column = column;
        Detail = detail;
        SourceName = sourceName;
    }

    /// <summary>Creates an error for a spec built in code, where no position is known.</summary>
    public ServiceSpecException(string keyPath, string detail)
        : this(keyPath, 0, 0, detail)
    {
    }

    /// <summary>Dotted path of the offending key, with list indexes (<c>tiers[1].name</c>); empty for document-level errors.</summary>
    public string KeyPath { get; }

    /// <summary>1-based line of the offending node, 0 when unknown.</summary>
    public int Line { get; }

    /// <summary>1-based column of the offending node, 0 when unknown.</summary>
    public int Column { get; }

    /// <summary>What is wrong, without the location prefix.</summary>
    public string Detail { get; }

    /// <summary>The file or source the spec came from, when given.</summary>
    public string? SourceName { get; }
}
