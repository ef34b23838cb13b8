using Microsoft.Extensions.Time.Testing;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// <see cref="CliTable"/> written to something that is not a terminal (a StringWriter, as a pipe): plain columns aligned
/// with two spaces, one line per row, no cell wrapped or cut.
/// </summary>
public sealed class CliTableTests
{
    [Fact]
    public void Write_NotATerminal_LongCellWholeOnOneLineAndColumnsAligned()
    {
        using var output = new StringWriter();
        var context = CliContext.ForWriters(output, TextWriter.Null, new FakeTimeProvider(), "/nonexistent-wf-home");
        var longPath = "/" + string.Concat(Enumerable.Repeat("a-long-folder-name/", 10)) + "model.gguf";
        Assert.True(longPath.Length > 200);
        var table = new CliTable("NAME", "PATH", "BYTES");
        table.AddRow("tiny", longPath, "868,384");
        table.AddRow("a-much-longer-name", "/m.gguf", "1");

        Assert.False(context.OutputIsTerminal);
        table.Write(context);

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains(longPath + "  868,384", lines[1], StringComparison.Ordinal);
        // Each column starts at the same offset on every line: the header's.
        foreach (var (header, cells) in new[] { ("PATH", new[] { longPath, "/m.gguf" }), ("BYTES", ["868,384", "1"]) })
        {
            var at = lines[0].IndexOf(header, StringComparison.Ordinal);
            Assert.Equal(at, lines[1].IndexOf(cells[0], StringComparison.Ordinal));
            Assert.Equal(at, lines[2].IndexOf(cells[1], StringComparison.Ordinal));
        }

        Assert.Equal("NAME                PATH", lines[0][..24]);
        Assert.DoesNotContain(lines, l => l.EndsWith(' '));
        Assert.DoesNotContain('\u001b', output.ToString());
    }

    [Fact]
    public void WriteAll_NotATerminal_TitledTablesSeparatedAndLineBreaksInCellsEscaped()
    {
        using var output = new StringWriter();
        var context = CliContext.ForWriters(output, TextWriter.Null, new FakeTimeProvider(), "/nonexistent-wf-home");
        var first = new CliTable("KEY", "VALUE");
        first.AddRow("template", "line one\nline two");
        var second = new CliTable("ID") { Title = "Replicas of svc" };
        second.AddRow("7");

        CliTable.WriteAll(context, first, second);

        Assert.Equal(
            string.Join(Environment.NewLine, "KEY       VALUE", "template  line one\\nline two", "", "Replicas of svc:", "ID", "7", ""),
            output.ToString());
    }
}
