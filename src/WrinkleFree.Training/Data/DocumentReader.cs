using System.Text;
using System.Text.Json;

namespace WrinkleFree.Training.Data;

/// <summary>Reads a <see cref="DataSource"/> into documents (in source order), the unit that packing separates with eos.</summary>
public static class DocumentReader
{
    /// <summary>All documents of <paramref name="source"/>; empty documents are dropped.</summary>
    public static IReadOnlyList<string> Read(DataSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.Kind switch
        {
            DataSourceKind.Brown => BrownCorpus.ReadDocuments(BrownCorpus.Locate(), source.BrownGenres),
            DataSourceKind.Jsonl => ReadJsonLines(RequirePath(source), source.TextField),
            _ => ReadPlainText(RequirePath(source)),
        };
    }

    /// <summary>
    /// Splits a text file into documents at runs of two or more blank lines; a single blank line is a paragraph break
    /// inside a document. Line endings are normalised to "\n".
    /// </summary>
    public static IReadOnlyList<string> ReadPlainText(string path)
    {
        var documents = new List<string>();
        var current = new StringBuilder();
        var blankRun = 0;
        foreach (var raw in ReadLines(path))
        {
            var line = raw.TrimEnd();
            if (line.Length == 0)
            {
                blankRun++;
                continue;
            }

            if (blankRun >= 2)
            {
                Flush(documents, current);
            }
            else if (blankRun == 1 && current.Length > 0)
            {
                current.Append('\n');
            }

            blankRun = 0;
            if (current.Length > 0)
            {
                current.Append('\n');
            }

            current.Append(line);
        }

        Flush(documents, current);
        return documents;
    }

    /// <summary>One document per line: the string field <paramref name="textField"/> of each JSON object; blank lines skipped.</summary>
    public static IReadOnlyList<string> ReadJsonLines(string path, string textField = "text")
    {
        var documents = new List<string>();
        var lineNumber = 0;
        foreach (var line in ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonDocument json;
            try
            {
                json = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw new DataSourceException($"{path}:{lineNumber}: not a JSON object ({e.Message})", e);
            }

            using (json)
            {
                if (json.RootElement.ValueKind != JsonValueKind.Object
                    || !json.RootElement.TryGetProperty(textField, out var text) || text.ValueKind != JsonValueKind.String)
                {
                    throw new DataSourceException(
                        $"{path}:{lineNumber}: expected an object with a string field '{textField}' (choose the field with --text-field)");
                }

                if (text.GetString() is { Length: > 0 } document)
                {
                    documents.Add(document);
                }
            }
        }

        return documents;
    }

    private static string RequirePath(DataSource source) =>
        source.Path ?? throw new DataSourceException($"data source {source.Kind} needs a file path");

    private static IEnumerable<string> ReadLines(string path)
    {
        if (!File.Exists(path))
        {
            throw new DataSourceException($"data file '{path}' does not exist");
        }

        return File.ReadLines(path, Encoding.UTF8);
    }

    private static void Flush(List<string> documents, StringBuilder current)
    {
        if (current.Length > 0)
        {
            documents.Add(current.ToString());
            current.Clear();
        }
    }
}
