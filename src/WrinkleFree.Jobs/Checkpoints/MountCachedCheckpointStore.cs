using System.Threading.Channels;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// SkyPilot's MOUNT_CACHED for checkpoints: a save lands durably in a local cache and returns; one background uploader pushes
/// checkpoints to the object store in save order. A checkpoint waiting for upload is never pruned from the cache. Flush (and dispose) wait
/// for the queue to drain; a failed upload is retried with backoff, logged, and thrown from flush when it was the newest.
/// </summary>
internal sealed class MountCachedCheckpointStore : ICheckpointStore
{
    private readonly LocalCheckpointStore _cache;
    private readonly ObjectCheckpointStore _remote;
    private readonly CheckpointStoreOptions _options;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _lock = new();
    private readonly Dictionary<long, int> _unuploaded = [];
    private readonly Task _uploader;
    private Pending? _last;
    private int _disposed;

    public MountCachedCheckpointStore(string cacheDirectory, ObjectCheckpointStore remote, CheckpointStoreOptions options)
    {
        _options = options;
        _remote = remote;
        _cache = new LocalCheckpointStore(cacheDirectory, options, IsUnuploaded);
        _uploader = Task.Run(UploadLoopAsync);
    }

    /// <summary>The local cache (tests look inside it).</summary>
    internal LocalCheckpointStore Cache => _cache;

    /// <summary>The object-store side (tests inject upload faults there).</summary>
    internal ObjectCheckpointStore Remote => _remote;

    public async Task SaveAsync(long step, string stagingDirectory, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        // Pinned before the save so the cache's own prune (inside SaveAsync) cannot take it before it is queued.
        Pin(step, +1);
        try
        {
            await _cache.SaveAsync(step, stagingDirectory, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Pin(step, -1);
            throw;
        }

        var pending = new Pending(step);
        lock (_lock)
        {
            _last = pending;
        }

        _queue.Writer.TryWrite(pending);
    }

    public async Task<long?> RestoreLatestAsync(string destinationDirectory, CancellationToken cancellationToken)
    {
        var local = await _cache.ListAsync(cancellationToken).ConfigureAwait(false);
        var remote = await _remote.ListAsync(cancellationToken).ConfigureAwait(false);

        // The cache wins when it holds the step (no download); the object store covers a fresh machine or a damaged cache.
        return await RestoredFiles.NewestAsync(local.Union(remote).Order().ToList(), async step =>
            (local.Contains(step) && await _cache.TryRestoreAsync(step, destinationDirectory, cancellationToken).ConfigureAwait(false))
            || (remote.Contains(step) && await _remote.TryRestoreAsync(step, destinationDirectory, cancellationToken).ConfigureAwait(false)))
            .ConfigureAwait(false);
    }

    /// <summary>Steps committed in the object store or in the cache, oldest first.</summary>
    public async Task<IReadOnlyList<long>> ListAsync(CancellationToken cancellationToken)
    {
        var local = await _cache.ListAsync(cancellationToken).ConfigureAwait(false);
        var remote = await _remote.ListAsync(cancellationToken).ConfigureAwait(false);
        return local.Union(remote).Order().ToList();
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        Pending? last;
        lock (_lock)
        {
            last = _last;
        }

        if (last is not null)
        {
            // Uploads run in order, so the newest one finishing means every earlier one has finished (or failed, logged).
            await last.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        try
        {
            await _uploader.ConfigureAwait(false);
        }
        finally
        {
            await _cache.DisposeAsync().ConfigureAwait(false);
            await _remote.DisposeAsync().ConfigureAwait(false);
        }
    }

    // Uploads are not cancellable: dispose waits for them, as SkyPilot counts a job done only once its cache has flushed.
    private async Task UploadLoopAsync()
    {
        await foreach (var pending in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                var manifest = await _cache.ReadManifestAsync(pending.Step, CancellationToken.None).ConfigureAwait(false)
                    ?? throw new CheckpointStoreException($"checkpoint of step {pending.Step} vanished from the cache {_cache.Root} before it was uploaded");
                await _remote.UploadAsync(manifest, _cache.DirectoryOf(pending.Step), CancellationToken.None).ConfigureAwait(false);
                await _remote.PruneAsync(CancellationToken.None).ConfigureAwait(false);
                pending.Done.TrySetResult();
            }
            catch (Exception e)
            {
                _options.Log?.Invoke($"MOUNT_CACHED: upload of checkpoint step {pending.Step} failed: {e.Message}; it stays in the cache {_cache.DirectoryOf(pending.Step)}");
                pending.Done.TrySetException(e as CheckpointStoreException
                    ?? new CheckpointStoreException($"MOUNT_CACHED upload of checkpoint step {pending.Step} failed: {e.Message}", e));
            }
            finally
            {
                Pin(pending.Step, -1);
            }

            try
            {
                await _cache.PruneAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _options.Log?.Invoke($"MOUNT_CACHED: pruning the cache {_cache.Root} failed: {e.Message}");
            }
        }
    }

    private bool IsUnuploaded(long step)
    {
        lock (_lock)
        {
            return _unuploaded.ContainsKey(step);
        }
    }

    private void Pin(long step, int delta)
    {
        lock (_lock)
        {
            var count = _unuploaded.GetValueOrDefault(step) + delta;
            if (count > 0)
            {
                _unuploaded[step] = count;
            }
            else
            {
                _unuploaded.Remove(step);
            }
        }
    }

    private sealed class Pending(long step)
    {
        public long Step => step;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
