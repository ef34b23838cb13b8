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

    /// <summary>The Brown genres read (letters of <see cref="BrownCorpus.Genres"/>); null = all of them.</summary>
    public IReadOnlySet<char>? BrownGenres { get; init; }

    /// <summary>The Brown corpus.</summary>
    public static DataSource Brown { get; } = new() { Kind = DataSourceKind.Brown };

    /// <summary>
    /// Parses "brown", "brown:LETTERS" (only those genres, e.g. brown:klmnpr for the fiction), "brown:-LETTERS" (all but
    /// those), a path ending in .jsonl (JSON Lines) or any other path (plain text); the file must exist.
    /// </summary>
    public static DataSource Parse(string spec, string textField = "text")
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Equals("brown", StringComparison.OrdinalIgnoreCase))
        {
            return Brown;
        }

        if (spec.StartsWith("brown:", StringComparison.OrdinalIgnoreCase))
        {
            return new DataSource { Kind = DataSourceKind.Brown, BrownGenres = ParseGenres(spec, spec["brown:".Length..]) };
        }

        if (!File.Exists(spec))
        {
            throw new DataSourceException($"--data '{spec}': no such file (use 'brown', a .txt file or a .jsonl file)");
        }

        var kind = spec.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ? DataSourceKind.Jsonl : DataSourceKind.Text;
        return new DataSource { Kind = kind, Path = System.IO.Path.GetFullPath(spec), TextField = textField };
    }

    private static SortedSet<char> ParseGenres(string spec, string letters)
    {
        var exclude = letters.StartsWith('-');
        var listed = exclude ? letters[1..] : letters;
        var valid = string.Concat(BrownCorpus.Genres.Keys);
        var bad = listed.ToLowerInvariant().Where(c => !BrownCorpus.Genres.ContainsKey(c)).Distinct().ToArray();
        if (listed.Length == 0 || bad.Length > 0)
        {
            throw new DataSourceException(
                $"--data '{spec}': " + (listed.Length == 0 ? "no genre letters" : $"'{string.Concat(bad)}' is not a Brown genre") +
                $"; give letters of {valid} ({string.Join(", ", BrownCorpus.Genres.Select(g => $"{g.Key} {g.Value}"))}), or -LETTERS to leave genres out");
        }

        var chosen = new SortedSet<char>(listed.ToLowerInvariant());
        var genres = exclude ? new SortedSet<char>(BrownCorpus.Genres.Keys.Where(g => !chosen.Contains(g))) : chosen;
        if (genres.Count == 0)
        {
            throw new DataSourceException($"--data '{spec}' leaves out every genre; keep at least one of {valid}");
        }

        return genres;
    }

    /// <summary>A short stable description, used in checkpoints to refuse resuming on different data.</summary>
    public override string ToString() => Kind switch
    {
        DataSourceKind.Brown => BrownGenres is { } genres ? "brown:" + string.Concat(genres) : "brown",
        DataSourceKind.Jsonl => $"jsonl:{Path}#{TextField}",
        _ => $"text:{Path}",
    };
}
