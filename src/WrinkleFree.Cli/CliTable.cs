using System.Text;
using Spectre.Console;

namespace WrinkleFree.Cli;

/// <summary>
/// A table of plain-text cells, written the way its reader can use it: in a terminal a Spectre table sized to the
/// terminal; in a pipe or file plain columns aligned with two spaces, one line per row and no box drawing, so no cell is
/// ever wrapped or cut whatever its length (`wf status | grep`, CI logs, `column`, `awk`). Scripts use <c>--json</c>.
/// </summary>
internal sealed class CliTable
{
    private const string Gap = "  ";

    private readonly string[] _headers;
    private readonly List<string[]> _rows = [];

    public CliTable(params string[] headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        _headers = headers;
    }

    /// <summary>The terminal table's border; pipes get none.</summary>
    public TableBorder Border { get; init; } = TableBorder.Square;

    /// <summary>A caption: above the box in a terminal, a "Title:" line before the header in a pipe.</summary>
    public string? Title { get; init; }

    /// <summary>Adds a row of plain text (no Spectre markup), one cell per header.</summary>
    public CliTable AddRow(params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != _headers.Length)
        {
            throw new ArgumentException($"a row of {cells.Length} cells in a table of {_headers.Length} columns", nameof(cells));
        }

        _rows.Add(cells);
        return this;
    }

    /// <summary>Writes <paramref name="tables"/> one after the other; in a pipe an empty line separates them.</summary>
    public static void WriteAll(CliContext context, params IEnumerable<CliTable> tables)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(tables);
        var first = true;
        foreach (var table in tables)
        {
            if (!first && !context.OutputIsTerminal)
            {
                context.Out.WriteLine();
            }

            table.Write(context);
            first = false;
        }
    }

    /// <summary>Writes the table: boxed in a terminal, plain aligned columns otherwise.</summary>
    public void Write(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.OutputIsTerminal)
        {
            context.Console.Write(Spectre());
            return;
        }

        foreach (var line in PlainLines())
        {
            context.Out.WriteLine(line);
        }
    }

    private Table Spectre()
    {
        var table = new Table().Border(Border);
        if (Title is not null)
        {
            table.Title = new TableTitle(Markup.Escape(Title));
        }

        foreach (var header in _headers)
        {
            table.AddColumn(new TableColumn(new Text(header)));
        }

        foreach (var row in _rows)
        {
            table.AddRow(row.Select(cell => new Text(cell)));
        }

        return table;
    }

    /// <summary>The title, the header and one line per row, each column as wide as its widest cell.</summary>
    private IEnumerable<string> PlainLines()
    {
        if (Title is not null)
        {
            yield return Title + ":";
        }

        var rows = _rows.Select(r => r.Select(OneLine).ToArray()).Prepend(_headers).ToList();
        var widths = _headers.Select((_, i) => rows.Max(r => r[i].Length)).ToArray();
        var line = new StringBuilder();
        foreach (var row in rows)
        {
            line.Clear();
            for (var i = 0; i < row.Length; i++)
            {
                if (i > 0)
                {
                    line.Append(Gap);
                }

                line.Append(row[i].PadRight(widths[i]));
            }

            // The last column is not padded: no trailing blanks for diff and grep.
            yield return line.ToString().TrimEnd();
        }
    }

    /// <summary>A cell on one line: a line break or tab inside a value (a chat template, say) is shown escaped.</summary>
    private static string OneLine(string cell) => cell.IndexOfAny(['\r', '\n', '\t']) < 0
        ? cell
        : cell.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);
}
