using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace WrinkleFree.Providers.Kubernetes;

/// <summary>
/// The objects of one kind that match a selector in one namespace, as the API last told them, kept by one list + watch
/// (never a request per object or per tick): the watch resumes from the last resourceVersion it saw and relists when the
/// API answers 410 Gone (the version is too old) or the stream ends without one.
/// </summary>
internal sealed class ResourceWatch<T> : IAsyncDisposable
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Func<CancellationToken, Task<(IList<T> Items, string Version)>> _list;
    private readonly Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> _watch;
    private readonly string _what;
    private readonly TimeSpan _retryDelay;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, T> _items = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _deletedUids = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;

    /// <param name="list">Lists the objects; returns them with the list's resourceVersion.</param>
    /// <param name="watch">Watches from a resourceVersion; reports stream errors (410 Gone among them) to its callback.</param>
    /// <param name="what">The objects in words for logs, e.g. "wf pods in namespace wf".</param>
    private ResourceWatch(
        Func<CancellationToken, Task<(IList<T> Items, string Version)>> list,
        Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch,
        string what, TimeSpan retryDelay, TimeProvider time, ILogger logger)
    {
        _list = list;
        _watch = watch;
        _what = what;
        _retryDelay = retryDelay;
        _time = time;
        _logger = logger;
    }

    /// <summary>Why the last list or watch failed, while it has not succeeded since; null when in sync.</summary>
    public string? LastError { get; private set; }

    /// <summary>Completes at the next change the watch sees (or the next relist).</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>Every object held now.</summary>
    public IReadOnlyCollection<T> Items => [.. _items.Values];

    public static ResourceWatch<T> Start(
        Func<CancellationToken, Task<(IList<T> Items, string Version)>> list,
        Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch,
        string what, TimeSpan retryDelay, TimeProvider time, ILogger logger)
    {
        var started = new ResourceWatch<T>(list, watch, what, retryDelay, time, logger);
        started._loop = Task.Run(() => started.RunAsync(started._stopping.Token));
        return started;
    }

    /// <summary>Waits for the first list; false when it has not come within <paramref name="timeout"/> (the API is away).</summary>
    public async Task<bool> WaitSyncedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _synced.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public T? Get(string name) => _items.GetValueOrDefault(name);

    /// <summary>Whether an object with this UID was seen deleted.</summary>
    public bool WasDeleted(string uid) => _deletedUids.ContainsKey(uid);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var version = await ListAsync(cancellationToken).ConfigureAwait(false);
                while (version is not null)
                    version = await WatchAsync(version, cancellationToken).ConfigureAwait(false);
                Log.WatchRelist(_logger, _what);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.Gone))
            {
                Log.WatchRelist(_logger, _what);
            }
            catch (Exception e)
            {
                LastError = KubernetesApiErrors.MessageOf(e);
                Log.WatchFailed(_logger, _what, LastError);
                await Task.Delay(_retryDelay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<string> ListAsync(CancellationToken cancellationToken)
    {
        var (items, version) = await _list(cancellationToken).ConfigureAwait(false);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            seen.Add(item.Metadata.Name);
            _items[item.Metadata.Name] = item;
        }

        // Objects that went while nobody watched (the watch was down, or the version expired) were deleted.
        foreach (var (name, item) in _items)
        {
            if (!seen.Contains(name) && _items.TryRemove(name, out _))
                _deletedUids[item.Metadata.Uid] = 0;
        }

        LastError = null;
        _synced.TrySetResult();
        Notify();
        return version;
    }

    /// <summary>Follows events from <paramref name="version"/>; returns the version to resume from, or null to relist.</summary>
    private async Task<string?> WatchAsync(string version, CancellationToken cancellationToken)
    {
        var gone = false;
        var events = _watch(version, e => gone |= KubernetesApiErrors.Is(e, HttpStatusCode.Gone), cancellationToken);
        await foreach (var (type, item) in events.ConfigureAwait(false))
        {
            version = item.Metadata?.ResourceVersion ?? version;
            switch (type)
            {
                case WatchEventType.Added or WatchEventType.Modified:
                    _items[item.Metadata!.Name] = item;
                    break;
                case WatchEventType.Deleted:
                    _deletedUids[item.Metadata!.Uid] = 0;
                    // Only this object: a same-named successor may have been added already.
                    if (_items.TryGetValue(item.Metadata.Name, out var held) && held.Metadata.Uid == item.Metadata.Uid)
                        _items.TryRemove(new KeyValuePair<string, T>(item.Metadata.Name, held));
                    break;
            }

            Notify();
            if (gone)
                return null;
        }

        return gone ? null : version;
    }

    private void Notify() => Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
