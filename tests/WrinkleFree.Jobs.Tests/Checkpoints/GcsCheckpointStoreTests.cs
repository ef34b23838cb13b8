using WrinkleFree.Jobs.Checkpoints;

namespace WrinkleFree.Jobs.Tests.Checkpoints;

/// <summary>
/// gs:// through the real Google.Cloud.Storage.V1 client against <see cref="GcsJsonApiDouble"/> (no GCS server runs
/// here): a contract test of the calls the store makes.
/// </summary>
public sealed class GcsCheckpointStoreTests(GcsJsonApiDouble gcs) : ObjectStoreContractTests, IClassFixture<GcsJsonApiDouble>
{
    [Fact]
    public async Task TheDouble_ServesEveryCallTheClientMade()
    {
        await using (var store = CheckpointStores.Open(Options(CheckpointMode.Copy, 0, null, [])))
        {
            await store.SaveAsync(1, CheckpointFiles.Stage(Temp, 1), Timeout());
            Assert.Equal(1, await store.RestoreLatestAsync(Temp.Sub("restored"), Timeout()));
        }

        Assert.Empty(gcs.Unserved);
    }

    [Fact]
    public async Task SaveAsync_NoSuchBucket_FailsAtOnceSayingWhatToDo()
    {
        var options = Options(CheckpointMode.Copy, 0, null, []) with { Location = "gs://no-such-bucket/x" };
        await using var store = CheckpointStores.Open(options);
        var error = await Assert.ThrowsAsync<CheckpointStoreException>(() => store.SaveAsync(1, CheckpointFiles.Stage(Temp, 1), Timeout()));
        Assert.Contains("create the bucket", error.Message, StringComparison.Ordinal);
    }

    protected override CheckpointStoreOptions Options(CheckpointMode mode, int keepLastN, string? cache, List<string> log) => new()
    {
        Location = $"gs://{GcsJsonApiDouble.Bucket}/{Prefix}",
        Mode = mode,
        KeepLastN = keepLastN,
        CacheDirectory = cache,
        GcsEndpoint = gcs.Endpoint,
        RetryDelay = TimeSpan.FromMilliseconds(5),
        Log = line => { lock (log) { log.Add(line); } },
    };
}
