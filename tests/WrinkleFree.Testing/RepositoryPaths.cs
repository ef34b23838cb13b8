namespace WrinkleFree.Testing;

/// <summary>The repository the tests run from, located from the test binary's folder; everything the tests read lies inside it.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "WrinkleFree.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find WrinkleFree.slnx above " + AppContext.BaseDirectory);
    });

    /// <summary>The folder holding WrinkleFree.slnx.</summary>
    public static string Root => RootPath.Value;

    /// <summary>The configuration the tests were built in (Release or Debug); the wf builds are looked up in the same one.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
}
