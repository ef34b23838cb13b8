using WrinkleFree.Testing;

namespace WrinkleFree.Jobs.Tests.Checkpoints;

/// <summary>Writes a staging folder whose bytes depend on the step, and checks a restored folder against it.</summary>
internal static class CheckpointFiles
{
    public static string Stage(TempDirectory temp, long step, int modelBytes = 4096)
    {
        var dir = temp.Sub($"staging-{step}-{Guid.NewGuid():N}");
        File.WriteAllBytes(Path.Combine(dir, "model.bin"), Bytes(step, modelBytes));
        Directory.CreateDirectory(Path.Combine(dir, "optimizer"));
        File.WriteAllBytes(Path.Combine(dir, "optimizer", "state.bin"), Bytes(step + 1000, 777));
        File.WriteAllText(Path.Combine(dir, "trainer.json"), $"{{\"step\":{step}}}");
        return dir;
    }

    public static void AssertRestored(string dir, long step, int modelBytes = 4096)
    {
        Assert.Equal(Bytes(step, modelBytes), File.ReadAllBytes(Path.Combine(dir, "model.bin")));
        Assert.Equal(Bytes(step + 1000, 777), File.ReadAllBytes(Path.Combine(dir, "optimizer", "state.bin")));
        Assert.Equal($"{{\"step\":{step}}}", File.ReadAllText(Path.Combine(dir, "trainer.json")));
        // Nothing of the store's own leaks into the destination (no manifest, no hidden temp folder).
        Assert.Equal(["model.bin", "optimizer", "trainer.json"], Directory.EnumerateFileSystemEntries(dir).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray());
    }

    public static byte[] Bytes(long seed, int length)
    {
        var bytes = new byte[length];
        new Random((int)seed).NextBytes(bytes);
        return bytes;
    }
}
