using WrinkleFree.Testing;

namespace WrinkleFree.Cli.Tests.Export;

/// <summary>
/// Generated files compared with a copy kept under tests/data/. To accept a deliberate change, run the tests once with
/// WF_UPDATE_SNAPSHOTS=1 (the snapshot is rewritten and the test passes), then review the diff before committing it.
/// </summary>
internal static class Snapshot
{
    public static void AssertMatches(string relativePath, string actual)
    {
        var path = Path.Combine(RepositoryPaths.Root, "tests", "data", relativePath);
        if (Environment.GetEnvironmentVariable("WF_UPDATE_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"no snapshot {path}: run the tests with WF_UPDATE_SNAPSHOTS=1 to write it, then review it");
        Assert.Equal(File.ReadAllText(path), actual);
    }
}
