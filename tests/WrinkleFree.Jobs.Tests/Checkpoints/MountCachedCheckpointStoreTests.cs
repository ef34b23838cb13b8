using System.Net;
using System.Net.Sockets;
using WrinkleFree.Jobs.Checkpoints;
using WrinkleFree.Testing;

namespace WrinkleFree.Jobs.Tests.Checkpoints;

[Collection(S3rverCollection.Name)]
public sealed class MountCachedCheckpointStoreTests(S3rverFixture s3) : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly List<string> _log = [];
    private readonly string _prefix = "cached/" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task SaveAsync_ReturnsBeforeUpload_AndFlushUploadsInOrder()
    {
        await using var store = (MountCachedCheckpointStore)CheckpointStores.Open(Options());
        var uploaded = new List<long>();
        using var gate = new SemaphoreSlim(0);
        store.Remote.AfterObjectUploaded = file =>
        {
            if (file == "model.bin")
            {
                // Hold the uploader on its first object until the test has saved everything: saves must not wait for it.
                Assert.True(gate.Wait(TimeSpan.FromSeconds(60)), "the test never released the uploader");
            }
        };

        foreach (var step in new long[] { 1, 2, 3 })
        {
            await store.SaveAsync(step, CheckpointFiles.Stage(_temp, step), Timeout());
        }

        // All three are durable in the cache although the uploader is still stuck on step 1.
        Assert.Equal([1L, 2L, 3L], await store.Cache.ListAsync(Timeout()));
        Assert.DoesNotContain(await s3.KeysAsync(_prefix + "/"), k => k.EndsWith("wf-checkpoint.json", StringComparison.Ordinal));

        var flush = store.FlushAsync(Timeout());
        Assert.False(flush.IsCompleted);
        gate.Release(3);
        await flush;

        var manifests = (await s3.KeysAsync(_prefix + "/")).Where(k => k.EndsWith("wf-checkpoint.json", StringComparison.Ordinal)).ToList();
        Assert.Equal([$"{_prefix}/checkpoint-1/wf-checkpoint.json", $"{_prefix}/checkpoint-2/wf-checkpoint.json", $"{_prefix}/checkpoint-3/wf-checkpoint.json"], manifests);
        foreach (var step in new long[] { 1, 2, 3 })
        {
            uploaded.Add(long.Parse(await s3.GetAsync($"{_prefix}/checkpoint-{step}/trainer.json") is var b ? System.Text.Encoding.UTF8.GetString(b)[8..^1] : "", System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal([1L, 2L, 3L], uploaded);
    }

    [Fact]
    public async Task KeepLastN_NeverPrunesAnUnuploadedCheckpointFromTheCache()
    {
        await using var store = (MountCachedCheckpointStore)CheckpointStores.Open(Options(keepLastN: 1));
        using var gate = new SemaphoreSlim(0);
        store.Remote.AfterObjectUploaded = _ => Assert.True(gate.Wait(TimeSpan.FromSeconds(60)));
        await store.SaveAsync(1, CheckpointFiles.Stage(_temp, 1), Timeout());
        await store.SaveAsync(2, CheckpointFiles.Stage(_temp, 2), Timeout());
        // Step 1 is still waiting for upload: keep_last_n 1 must not take it from the cache yet.
        Assert.Equal([1L, 2L], await store.Cache.ListAsync(Timeout()));

        gate.Release(100);
        await store.FlushAsync(Timeout());
        Assert.Equal([2L], await store.Cache.ListAsync(Timeout()));
        Assert.DoesNotContain(await s3.KeysAsync(_prefix + "/"), k => k.Contains("checkpoint-1/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RestoreLatest_PrefersValidCache_ElseS3()
    {
        var cache = Path.Combine(_temp.Path, "cache");
        await using (var store = CheckpointStores.Open(Options(cache: cache)))
        {
            await store.SaveAsync(4, CheckpointFiles.Stage(_temp, 4), Timeout());
            await store.FlushAsync(Timeout());
        }

        // S3's copy damaged, cache intact: the cache wins.
        await s3.PutAsync($"{_prefix}/checkpoint-4/trainer.json", "{\"step\":666}"u8.ToArray());
        await using (var store = CheckpointStores.Open(Options(cache: cache)))
        {
            var restored = _temp.Sub("from-cache");
            Assert.Equal(4, await store.RestoreLatestAsync(restored, Timeout()));
            CheckpointFiles.AssertRestored(restored, 4);
        }

        // A fresh machine (empty cache) restores from S3 and, with S3's newest damaged, falls back to the previous one.
        await using (var store = CheckpointStores.Open(Options(cache: cache)))
        {
            await store.SaveAsync(5, CheckpointFiles.Stage(_temp, 5), Timeout());
            await store.FlushAsync(Timeout());
        }

        await using (var store = CheckpointStores.Open(Options(cache: Path.Combine(_temp.Path, "fresh-cache"))))
        {
            var restored = _temp.Sub("from-s3");
            Assert.Equal(5, await store.RestoreLatestAsync(restored, Timeout()));
            CheckpointFiles.AssertRestored(restored, 5);
        }

        await s3.PutAsync($"{_prefix}/checkpoint-5/trainer.json", "{\"step\":667}"u8.ToArray());
        await using (var store = CheckpointStores.Open(Options(cache: Path.Combine(_temp.Path, "fresh-cache-2"))))
        {
            var restored = _temp.Sub("from-s3-fallback");
            // Step 4 in S3 is damaged too (above), so nothing verifies remotely: a fresh machine gets nothing.
            Assert.Null(await store.RestoreLatestAsync(restored, Timeout()));
        }
    }

    [Fact]
    public async Task FlushAsync_UploadKeepsFailing_RetriesThenSurfacesTheError()
    {
        // A loopback port nobody listens on: every request is refused, as with S3 unreachable.
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var options = Options() with { S3Endpoint = $"http://127.0.0.1:{port}", MaxAttempts = 3 };
        await using var store = CheckpointStores.Open(options);
        await store.SaveAsync(1, CheckpointFiles.Stage(_temp, 1), Timeout());

        var error = await Assert.ThrowsAsync<CheckpointStoreException>(() => store.FlushAsync(Timeout()));
        Assert.Contains("gave up after 3 attempts", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, _log.Count(l => l.Contains("retrying", StringComparison.Ordinal)));
        Assert.Contains(_log, l => l.Contains("MOUNT_CACHED: upload of checkpoint step 1 failed", StringComparison.Ordinal));
        // The checkpoint is still safe in the cache, and a restore finds it there.
        var restored = _temp.Sub("restored");
        Assert.Equal(1, await ((MountCachedCheckpointStore)store).Cache.RestoreLatestAsync(restored, Timeout()));
    }

    public void Dispose() => _temp.Dispose();

    private CheckpointStoreOptions Options(int keepLastN = 0, string? cache = null) =>
        s3.Options(_prefix, CheckpointMode.MountCached, keepLastN, cache ?? Path.Combine(_temp.Path, "cache"), _log);

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}
