namespace WrinkleFree.Inference.Tests;

/// <summary>Locates the repository and the shared test data from the test binary's folder.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>../shared/testdata next to the checkout (CI and sessions both have it).</summary>
    public static string TestData => Path.Combine(RepoRoot, "..", "shared", "testdata");

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
