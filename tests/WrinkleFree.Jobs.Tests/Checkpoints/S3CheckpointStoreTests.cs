using WrinkleFree.Jobs.Checkpoints;
using WrinkleFree.Testing;

namespace WrinkleFree.Jobs.Tests.Checkpoints;

[Collection(S3rverCollection.Name)]
public sealed class S3CheckpointStoreTests(S3rverFixture s3) : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly List<string> _log = [];
    private readonly string _prefix = "runs/" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task SaveThenRestore_RoundTripsThroughS3rver()
    {
        // 3 MB: big enough that a chunk-encoded upload would be stored with its chunk headers and fail the checksum.
        const int size = 3 << 20;
        await using var store = CheckpointStores.Open(s3.Options(_prefix, log: _log));
        await store.SaveAsync(7, CheckpointFiles.Stage(_temp, 7, size), Timeout());
        await store.SaveAsync(8, CheckpointFiles.Stage(_temp, 8, size), Timeout());

        Assert.Equal([7L, 8L], await store.ListAsync(Timeout()));
        Assert.Equal(
            [$"{_prefix}/checkpoint-8/model.bin", $"{_prefix}/checkpoint-8/optimizer/state.bin", $"{_prefix}/checkpoint-8/trainer.json", $"{_prefix}/checkpoint-8/wf-checkpoint.json"],
            await s3.KeysAsync($"{_prefix}/checkpoint-8/"));
        Assert.Equal(CheckpointFiles.Bytes(8, size), await s3.GetAsync($"{_prefix}/checkpoint-8/model.bin"));

        var restored = _temp.Sub("restored");
        Assert.Equal(8, await store.RestoreLatestAsync(restored, Timeout()));
        CheckpointFiles.AssertRestored(restored, 8, size);
    }

    [Fact]
    public async Task RestoreLatest_CorruptNewestInS3_FallsBackToPrevious()
    {
        await using var store = CheckpointStores.Open(s3.Options(_prefix, log: _log));
        await store.SaveAsync(1, CheckpointFiles.Stage(_temp, 1), Timeout());
        await store.SaveAsync(2, CheckpointFiles.Stage(_temp, 2), Timeout());
        var damaged = CheckpointFiles.Bytes(2, 4096);
        damaged[10] ^= 1;
        await s3.PutAsync($"{_prefix}/checkpoint-2/model.bin", damaged);

        var restored = _temp.Sub("restored");
        Assert.Equal(1, await store.RestoreLatestAsync(restored, Timeout()));
        CheckpointFiles.AssertRestored(restored, 1);
        Assert.Contains(_log, l => l.Contains("checkpoint-2", StringComparison.Ordinal) && l.Contains("SHA-256", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SaveAsync_CrashMidUpload_PreviousStaysNewestAndLeftoversArePruned()
    {
        await using (var crashing = (S3CheckpointStore)CheckpointStores.Open(s3.Options(_prefix)))
        {
            await crashing.SaveAsync(1, CheckpointFiles.Stage(_temp, 1), Timeout());
            crashing.AfterObjectUploaded = file => throw new IOException($"simulated crash after uploading {file}");
            await Assert.ThrowsAsync<IOException>(() => crashing.SaveAsync(2, CheckpointFiles.Stage(_temp, 2), Timeout()));
        }

        // A new process (a restarted trainer) sees only step 1: step 2 has objects but no manifest.
        Assert.Contains($"{_prefix}/checkpoint-2/model.bin", await s3.KeysAsync(_prefix + "/"));
        await using var store = CheckpointStores.Open(s3.Options(_prefix));
        Assert.Equal([1L], await store.ListAsync(Timeout()));
        var restored = _temp.Sub("restored");
        Assert.Equal(1, await store.RestoreLatestAsync(restored, Timeout()));
        CheckpointFiles.AssertRestored(restored, 1);

        // Once step 3 commits, the abandoned step-2 objects go.
        await store.SaveAsync(3, CheckpointFiles.Stage(_temp, 3), Timeout());
        Assert.DoesNotContain(await s3.KeysAsync(_prefix + "/"), k => k.Contains("checkpoint-2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SaveAsync_KeepLastN_PrunesOldObjects()
    {
        await using var store = CheckpointStores.Open(s3.Options(_prefix, keepLastN: 2));
        foreach (var step in new long[] { 10, 20, 30, 40 })
        {
            await store.SaveAsync(step, CheckpointFiles.Stage(_temp, step), Timeout());
        }

        Assert.Equal([30L, 40L], await store.ListAsync(Timeout()));
        Assert.All(await s3.KeysAsync(_prefix + "/"), k => Assert.True(k.Contains("checkpoint-30/", StringComparison.Ordinal) || k.Contains("checkpoint-40/", StringComparison.Ordinal), k));
    }

    [Fact]
    public async Task SaveAsync_NoSuchBucket_FailsAtOnceSayingWhatToDo()
    {
        var options = s3.Options(_prefix) with { Location = "s3://no-such-bucket-here/x" };
        await using var store = CheckpointStores.Open(options);
        var error = await Assert.ThrowsAsync<CheckpointStoreException>(() => store.SaveAsync(1, CheckpointFiles.Stage(_temp, 1), Timeout()));
        Assert.Contains("NoSuchBucket", error.Message, StringComparison.Ordinal);
        Assert.Contains("create the bucket", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}
