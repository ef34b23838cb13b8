using WrinkleFree.Jobs.Checkpoints;
using WrinkleFree.Testing;

namespace WrinkleFree.Jobs.Tests.Checkpoints;

/// <summary>
/// What every object-store scheme must do, run once per provider against a real server (s3rver for r2://, Azurite for
/// az://) or the GCS test double: the same contract the s3:// tests check.
/// </summary>
public abstract class ObjectStoreContractTests : IDisposable
{
    private readonly List<string> _log = [];

    protected TempDirectory Temp { get; } = new();

    protected string Prefix { get; } = "contract/" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task SaveThenRestore_RoundTripsEveryFile()
    {
        // 1 MB: more than one buffer of every SDK's copy loop.
        const int size = 1 << 20;
        await using var store = Open();
        await store.SaveAsync(7, CheckpointFiles.Stage(Temp, 7, size), Timeout());
        await store.SaveAsync(8, CheckpointFiles.Stage(Temp, 8, size), Timeout());

        Assert.Equal([7L, 8L], await store.ListAsync(Timeout()));
        Assert.Equal(
            [$"{Prefix}/checkpoint-8/model.bin", $"{Prefix}/checkpoint-8/optimizer/state.bin", $"{Prefix}/checkpoint-8/trainer.json", $"{Prefix}/checkpoint-8/wf-checkpoint.json"],
            await KeysAsync(store, $"{Prefix}/checkpoint-8/"));
        var restored = Temp.Sub("restored");
        Assert.Equal(8, await store.RestoreLatestAsync(restored, Timeout()));
        CheckpointFiles.AssertRestored(restored, 8, size);
    }

    [Fact]
    public async Task RestoreLatest_NewestStepWins_NotTheLastNameInKeyOrder()
    {
        await using var store = Open();
        // checkpoint-10 sorts before checkpoint-9 as a key; the step decides.
        foreach (var step in new long[] { 9, 10, 2 })
        {
            await store.SaveAsync(step, CheckpointFiles.Stage(Temp, step), Timeout());
        }

        Assert.Equal([2L, 9L, 10L], await store.ListAsync(Timeout()));
        var restored = Temp.Sub("restored");
        Assert.Equal(10, await store.RestoreLatestAsync(restored, Timeout()));
        CheckpointFiles.AssertRestored(restored, 10);
    }

    [Fact]
    public async Task SaveAsync_PartialUploadWithoutManifest_IsIgnoredThenPruned()
    {
        await using (var crashing = (ObjectCheckpointStore)Open())
        {
            await crashing.SaveAsync(1, CheckpointFiles.Stage(Temp, 1), Timeout());
            crashing.AfterObjectUploaded = file => throw new IOException($"simulated crash after uploading {file}");
            await Assert.ThrowsAsync<IOException>(() => crashing.SaveAsync(2, CheckpointFiles.Stage(Temp, 2), Timeout()));
        }

        // A restarted trainer sees only step 1: step 2 has objects but no manifest.
        await using var store = Open();
        Assert.Contains($"{Prefix}/checkpoint-2/model.bin", await KeysAsync(store, Prefix + "/"));
        Assert.Equal([1L], await store.ListAsync(Timeout()));
        var restored = Temp.Sub("restored");
        Assert.Equal(1, await store.RestoreLatestAsync(restored, Timeout()));
        CheckpointFiles.AssertRestored(restored, 1);

        await store.SaveAsync(3, CheckpointFiles.Stage(Temp, 3), Timeout());
        Assert.DoesNotContain(await KeysAsync(store, Prefix + "/"), k => k.Contains("checkpoint-2/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SaveAsync_KeepLastN_PrunesOldObjects()
    {
        await using var store = Open(keepLastN: 2);
        foreach (var step in new long[] { 10, 20, 30 })
        {
            await store.SaveAsync(step, CheckpointFiles.Stage(Temp, step), Timeout());
        }

        Assert.Equal([20L, 30L], await store.ListAsync(Timeout()));
        Assert.DoesNotContain(await KeysAsync(store, Prefix + "/"), k => k.Contains("checkpoint-10/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MountCached_SavesToTheCacheFirst_ThenFlushSyncsToTheStore()
    {
        await using (var store = (MountCachedCheckpointStore)Open(CheckpointMode.MountCached, cache: Path.Combine(Temp.Path, "cache")))
        {
            using var gate = new SemaphoreSlim(0);
            // Hold the uploader until the save has returned: the save must not wait for the upload.
            store.Remote.AfterObjectUploaded = _ => Assert.True(gate.Wait(TimeSpan.FromSeconds(60)), "the test never released the uploader");
            await store.SaveAsync(4, CheckpointFiles.Stage(Temp, 4), Timeout());

            Assert.Equal([4L], await store.Cache.ListAsync(Timeout()));
            Assert.Empty(await store.Remote.ListAsync(Timeout()));
            gate.Release(100);
            await store.FlushAsync(Timeout());
            Assert.Equal([4L], await store.Remote.ListAsync(Timeout()));
        }

        // A fresh machine (empty cache) restores from the store.
        await using var fresh = Open(CheckpointMode.MountCached, cache: Path.Combine(Temp.Path, "fresh-cache"));
        var restored = Temp.Sub("restored");
        Assert.Equal(4, await fresh.RestoreLatestAsync(restored, Timeout()));
        CheckpointFiles.AssertRestored(restored, 4);
    }

    public void Dispose()
    {
        Temp.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The provider's options for this test's prefix.</summary>
    protected abstract CheckpointStoreOptions Options(CheckpointMode mode, int keepLastN, string? cache, List<string> log);

    protected static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private ICheckpointStore Open(CheckpointMode mode = CheckpointMode.Copy, int keepLastN = 0, string? cache = null) =>
        CheckpointStores.Open(Options(mode, keepLastN, cache, _log));

    private static Task<List<string>> KeysAsync(ICheckpointStore store, string prefix) =>
        ((ObjectCheckpointStore)store).KeysAsync(prefix, Timeout());
}
