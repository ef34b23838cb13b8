using WrinkleFree.Jobs.Checkpoints;
using WrinkleFree.Testing;

namespace WrinkleFree.Jobs.Tests.Checkpoints;

/// <summary>r2:// through the S3 store, its endpoint overridden to s3rver (as WF_R2_ENDPOINT does outside tests).</summary>
[Collection(S3rverCollection.Name)]
public sealed class R2CheckpointStoreTests(S3rverFixture s3) : ObjectStoreContractTests
{
    [Fact]
    public async Task Open_R2_SignsForRegionAutoAndNamesR2InErrors()
    {
        var options = Options(CheckpointMode.Copy, 0, null, []) with { Location = "r2://0123abcd/no-such-bucket/x" };
        await using var store = CheckpointStores.Open(options);
        var error = await Assert.ThrowsAsync<CheckpointStoreException>(() => store.SaveAsync(1, CheckpointFiles.Stage(Temp, 1), Timeout()));
        Assert.Contains("NoSuchBucket", error.Message, StringComparison.Ordinal);
        Assert.Contains("r2:// location", error.Message, StringComparison.Ordinal);
        Assert.Contains("r2://0123abcd/no-such-bucket/x/checkpoint-1/", error.Message, StringComparison.Ordinal);
    }

    protected override CheckpointStoreOptions Options(CheckpointMode mode, int keepLastN, string? cache, List<string> log) =>
        s3.Options(Prefix, mode, keepLastN, cache, log) with
        {
            Location = $"r2://0123abcd/{S3rverFixture.Bucket}/{Prefix}",
            // R2's region is "auto"; left null so the r2:// default is what signs.
            S3Region = null,
        };
}
