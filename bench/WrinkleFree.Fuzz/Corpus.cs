namespace WrinkleFree.Fuzz;

/// <summary>The seed corpus kept in the repository (bench/WrinkleFree.Fuzz/corpus/TARGET), found from the binary or the working folder.</summary>
internal static class Corpus
{
    public static string DefaultDirectory(string target) =>
        Benchmarks.BenchRepository.Root() is { } root
            ? Path.Combine(root, "bench", "WrinkleFree.Fuzz", "corpus", target)
            : throw new DirectoryNotFoundException($"cannot find the repository (WrinkleFree.slnx) above {AppContext.BaseDirectory}; pass --corpus DIR");

    /// <summary>Every file of <paramref name="directory"/> (sorted by name, so runs repeat), skipping notes (*.md).</summary>
    public static IReadOnlyList<byte[]> Load(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"corpus folder '{directory}' does not exist");
        }

        return Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".md", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(File.ReadAllBytes)
            .ToList();
    }
}
