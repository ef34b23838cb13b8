namespace WrinkleFree.Fuzz;

/// <summary>The seed corpus kept in the repository (bench/WrinkleFree.Fuzz/corpus/TARGET), found from the binary or the working folder.</summary>
internal static class Corpus
{
    public static string DefaultDirectory(string target)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "WrinkleFree.slnx")))
                {
                    return Path.Combine(dir.FullName, "bench", "WrinkleFree.Fuzz", "corpus", target);
                }
            }
        }

        throw new DirectoryNotFoundException($"cannot find the repository (WrinkleFree.slnx) above {AppContext.BaseDirectory}; pass --corpus DIR");
    }

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
