namespace WrinkleFree.Training.Data;

/// <summary>The <c>--data</c> option: the Brown corpus, a plain text file or a JSONL file with a configurable text field.</summary>
public sealed record DataSource
{
    /// <summary>What kind of source this is.</summary>
    public required DataSourceKind Kind { get; init; }

    /// <summary>The file for <see cref="DataSourceKind.Text"/> and <see cref="DataSourceKind.Jsonl"/>; null for Brown.</summary>
    public string? Path { get; init; }

    /// <summary>The JSONL field holding each document's text.</summary>
    public string TextField { get; init; } = "text";

    /// <summary>The Brown corpus.</summary>
    public static DataSource Brown { get; } = new() { Kind = DataSourceKind.Brown };

    /// <summary>
    /// Parses "brown", a path ending in .jsonl (JSON Lines) or any other path (plain text); the file must exist.
    /// </summary>
    public static DataSource Parse(string spec, string textField = "text")
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Equals("brown", StringComparison.OrdinalIgnoreCase))
        {
            return Brown;
        }

        if (!File.Exists(spec))
        {
            throw new DataSourceException($"--data '{spec}': no such file (use 'brown', a .txt file or a .jsonl file)");
        }

        var kind = spec.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ? DataSourceKind.Jsonl : DataSourceKind.Text;
        return new DataSource { Kind = kind, Path = System.IO.Path.GetFullPath(spec), TextField = textField };
    }

    /// <summary>A short stable description, used in checkpoints to refuse resuming on different data.</summary>
    public override string ToString() => Kind switch
    {
        DataSourceKind.Brown => "brown",
        DataSourceKind.Jsonl => $"jsonl:{Path}#{TextField}",
        _ => $"text:{Path}",
    };
}
