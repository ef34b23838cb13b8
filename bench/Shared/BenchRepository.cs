namespace WrinkleFree.Benchmarks;

/// <summary>
/// The repository a bench runs from (the folder holding WrinkleFree.slnx), found above the binary or the working folder.
/// One source file linked into every bench project, which share no library of their own.
/// </summary>
internal static class BenchRepository
{
    /// <summary>The repository's folder, or null when neither the binary nor the working folder is inside one.</summary>
    public static string? Root()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "WrinkleFree.slnx")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }
}
