namespace WrinkleFree.Inference.Tests;

/// <summary>Locates the repository and its test data from the test binary's folder.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>tests/data in the repository (vocabularies and expected ids; provenance in tests/data/tokenizers/README.md).</summary>
    public static string TestData => Path.Combine(RepoRoot, "tests", "data");

    public static string Tokenizers => Path.Combine(TestData, "tokenizers");

    public static string TempFile(string extension = ".gguf") =>
        Path.Combine(Path.GetTempPath(), "wf-tests", Guid.NewGuid().ToString("N") + extension);

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "WrinkleFree.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find WrinkleFree.slnx above " + AppContext.BaseDirectory);
    }
}
