using WrinkleFree.Training.Data;

namespace WrinkleFree.Training.Tests.Data;

public sealed class DocumentReaderTests
{
    [Fact]
    public void ReadPlainText_TwoBlankLines_StartNewDocument()
    {
        var path = TempFile(".txt", "first line\nsecond line\n\nnew paragraph\n\n\nsecond doc\r\n\n\n\n");
        var documents = DocumentReader.ReadPlainText(path);
        Assert.Equal(["first line\nsecond line\n\nnew paragraph", "second doc"], documents);
    }

    [Fact]
    public void ReadJsonLines_ConfiguredField_ReadsEachLine()
    {
        var path = TempFile(".jsonl", "{\"body\":\"one\",\"id\":1}\n\n{\"body\":\"two \\\"quoted\\\"\"}\n");
        Assert.Equal(["one", "two \"quoted\""], DocumentReader.ReadJsonLines(path, "body"));
    }

    [Fact]
    public void ReadJsonLines_MissingField_NamesFileAndLine()
    {
        var path = TempFile(".jsonl", "{\"text\":\"ok\"}\n{\"other\":1}\n");
        var e = Assert.Throws<DataSourceException>(() => DocumentReader.ReadJsonLines(path));
        Assert.Contains($"{path}:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("'text'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Specs_PickKindByExtension()
    {
        var jsonl = TempFile(".jsonl", "{\"text\":\"a\"}\n");
        var text = TempFile(".txt", "a\n");
        Assert.Equal(DataSourceKind.Brown, DataSource.Parse("brown").Kind);
        Assert.Equal(DataSourceKind.Jsonl, DataSource.Parse(jsonl).Kind);
        Assert.Equal(DataSourceKind.Text, DataSource.Parse(text).Kind);
        var e = Assert.Throws<DataSourceException>(() => DataSource.Parse("/no/such/file.txt"));
        Assert.Contains("/no/such/file.txt", e.Message, StringComparison.Ordinal);
    }

    internal static string TempFile(string extension, string content)
    {
        var dir = Path.Combine(Path.GetTempPath(), "wf-training-tests");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, Guid.NewGuid().ToString("N") + extension);
        File.WriteAllText(path, content);
        return path;
    }
}
