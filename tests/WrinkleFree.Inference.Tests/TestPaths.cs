using WrinkleFree.Testing;

namespace WrinkleFree.Inference.Tests;

/// <summary>Locates the repository and its test data from the test binary's folder.</summary>
internal static class TestPaths
{
    public static string RepoRoot => RepositoryPaths.Root;

    /// <summary>tests/data in the repository (vocabularies and expected ids; provenance in tests/data/tokenizers/README.md).</summary>
    public static string TestData => Path.Combine(RepoRoot, "tests", "data");

    public static string Tokenizers => Path.Combine(TestData, "tokenizers");

    public static string TempFile(string extension = ".gguf") =>
        Path.Combine(Path.GetTempPath(), "wf-tests", Guid.NewGuid().ToString("N") + extension);
}
