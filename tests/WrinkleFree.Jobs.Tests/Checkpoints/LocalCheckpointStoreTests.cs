using WrinkleFree.Jobs.Checkpoints;
using WrinkleFree.Testing;

namespace WrinkleFree.Jobs.Tests.Checkpoints;

public sealed class LocalCheckpointStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly List<string> _log = [];

    [Fact]
    public async Task SaveThenRestore_RoundTripsEveryFile()
    {
        await using var store = Open();
        await store.SaveAsync(10, CheckpointFiles.Stage(_temp, 10), Timeout());
        await store.SaveAsync(20, CheckpointFiles.Stage(_temp, 20), Timeout());

        var restored = _temp.Sub("restored");
        Assert.Equal(20, await store.RestoreLatestAsync(restored, Timeout()));
        CheckpointFiles.AssertRestored(restored, 20);
        Assert.Equal([10L, 20L], await store.ListAsync(Timeout()));
        Assert.True(File.Exists(Path.Combine(Root, "checkpoint-20", "wf-checkpoint.json")));
    }

    [Fact]
    public async Task RestoreLatest_EmptyStore_ReturnsNull()
    {
        await using var store = Open();
        Assert.Null(await store.RestoreLatestAsync(_temp.Sub("restored"), Timeout()));
        Assert.Empty(await store.ListAsync(Timeout()));
    }

    [Fact]
    public async Task RestoreLatest_CorruptNewest_FallsBackToPrevious()
    {
        await using var store = Open();
        await store.SaveAsync(1, CheckpointFiles.Stage(_temp, 1), Timeout());
        await store.SaveAsync(2, CheckpointFiles.Stage(_temp, 2), Timeout());
        var model = Path.Combine(Root, "checkpoint-2", "model.bin");
        var bytes = File.ReadAllBytes(model);
        bytes[100] ^= 0xFF;
        File.WriteAllBytes(model, bytes);

        var restored = _temp.Sub("restored");
        Assert.Equal(1, await store.RestoreLatestAsync(restored, Timeout()));
        CheckpointFiles.AssertRestored(restored, 1);
        Assert.Contains(_log, l => l.Contains("checkpoint-2", StringComparison.Ordinal) && l.Contains("SHA-256", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RestoreLatest_HalfWrittenNewest_FallsBackToPrevious()
    {
        await using var store = Open();
        await store.SaveAsync(1, CheckpointFiles.Stage(_temp, 1), Timeout());
        await store.SaveAsync(2, CheckpointFiles.Stage(_temp, 2), Timeout());
        await store.SaveAsync(3, CheckpointFiles.Stage(_temp, 3), Timeout());
        // Step 3: a file cut short (a write the disk lost). Step 2: a manifest cut short.
        var model = Path.Combine(Root, "checkpoint-3", "model.bin");
        File.WriteAllBytes(model, File.ReadAllBytes(model)[..1000]);
        var manifest = Path.Combine(Root, "checkpoint-2", "wf-checkpoint.json");
        File.WriteAllBytes(manifest, File.ReadAllBytes(manifest)[..40]);

        var restored = _temp.Sub("restored");
        Assert.Equal(1, await store.RestoreLatestAsync(restored, Timeout()));
        CheckpointFiles.AssertRestored(restored, 1);
        Assert.Contains(_log, l => l.Contains("checkpoint-3", StringComparison.Ordinal) && l.Contains("1000 bytes", StringComparison.Ordinal));
        Assert.Contains(_log, l => l.Contains("checkpoint-2", StringComparison.Ordinal) && l.Contains("not valid JSON", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SaveAsync_CrashMidSave_LeavesPreviousCheckpointValid()
    {
        await using var store = (LocalCheckpointStore)Open();
        await store.SaveAsync(5, CheckpointFiles.Stage(_temp, 5), Timeout());
        store.AfterFileWritten = file => throw new IOException($"simulated crash after {file}");

        await Assert.ThrowsAsync<IOException>(() => store.SaveAsync(6, CheckpointFiles.Stage(_temp, 6), Timeout()));

        // What a real crash (no cleanup) leaves: a temp folder with some files, and no manifest anywhere.
        var leftover = Path.Combine(Root, ".checkpoint-6.tmp-deadbeef");
        Directory.CreateDirectory(leftover);
        File.WriteAllBytes(Path.Combine(leftover, "model.bin"), [1, 2, 3]);
        Assert.Equal([5L], await store.ListAsync(Timeout()));
        var restored = _temp.Sub("restored");
        Assert.Equal(5, await store.RestoreLatestAsync(restored, Timeout()));
        CheckpointFiles.AssertRestored(restored, 5);

        // The next successful save clears the leftovers.
        store.AfterFileWritten = null;
        await store.SaveAsync(7, CheckpointFiles.Stage(_temp, 7), Timeout());
        Assert.Equal(["checkpoint-5", "checkpoint-7"], Directory.EnumerateDirectories(Root).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task SaveAsync_KeepLastN_PrunesOldestAfterNewIsDurable()
    {
        await using var store = Open(keepLastN: 2);
        for (var step = 100; step <= 500; step += 100)
        {
            await store.SaveAsync(step, CheckpointFiles.Stage(_temp, step), Timeout());
        }

        Assert.Equal([400L, 500L], await store.ListAsync(Timeout()));
        Assert.Equal(["checkpoint-400", "checkpoint-500"], Directory.EnumerateDirectories(Root).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task SaveAsync_SameStepTwice_ReplacesTheCheckpoint()
    {
        await using var store = Open();
        await store.SaveAsync(3, CheckpointFiles.Stage(_temp, 3), Timeout());
        await store.SaveAsync(3, CheckpointFiles.Stage(_temp, 3, modelBytes: 100), Timeout());

        var restored = _temp.Sub("restored");
        Assert.Equal(3, await store.RestoreLatestAsync(restored, Timeout()));
        CheckpointFiles.AssertRestored(restored, 3, modelBytes: 100);
        Assert.Single(Directory.EnumerateDirectories(Root));
    }

    [Fact]
    public async Task SaveAsync_MissingStagingFolder_SaysWhatToDo()
    {
        await using var store = Open();
        var error = await Assert.ThrowsAsync<CheckpointStoreException>(() => store.SaveAsync(1, Path.Combine(_temp.Path, "nope"), Timeout()));
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_BadOptions_Throw()
    {
        Assert.Throws<CheckpointStoreException>(() => CheckpointStores.Open(new CheckpointStoreOptions { Location = Root, KeepLastN = -1 }));
        Assert.Throws<CheckpointStoreException>(() => CheckpointStores.Open(new CheckpointStoreOptions { Location = "hdfs://namenode/x" }));
        Assert.Throws<CheckpointStoreException>(() => CheckpointStores.Open(new CheckpointStoreOptions { Location = "s3:///x" }));
    }

    public void Dispose() => _temp.Dispose();

    private string Root => Path.Combine(_temp.Path, "store");

    private ICheckpointStore Open(int keepLastN = 0) => CheckpointStores.Open(new CheckpointStoreOptions
    {
        Location = Root,
        KeepLastN = keepLastN,
        Log = line => { lock (_log) { _log.Add(line); } },
    });

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}
