using WrinkleFree.Jobs.Checkpoints;

namespace WrinkleFree.Jobs.Tests.Checkpoints;

/// <summary>az:// against a real Azurite, reached through its connection string.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobCheckpointStoreTests(AzuriteFixture azurite) : ObjectStoreContractTests
{
    [Fact]
    public async Task SaveAsync_NoSuchContainer_FailsAtOnceSayingWhatToDo()
    {
        var options = Options(CheckpointMode.Copy, 0, null, []) with { Location = $"az://{AzuriteFixture.Account}/no-such-container/x" };
        await using var store = CheckpointStores.Open(options);
        var error = await Assert.ThrowsAsync<CheckpointStoreException>(() => store.SaveAsync(1, CheckpointFiles.Stage(Temp, 1), Timeout()));
        Assert.Contains("ContainerNotFound", error.Message, StringComparison.Ordinal);
        Assert.Contains("create the container", error.Message, StringComparison.Ordinal);
    }

    protected override CheckpointStoreOptions Options(CheckpointMode mode, int keepLastN, string? cache, List<string> log) =>
        azurite.Options(Prefix, mode, keepLastN, cache, log);
}
