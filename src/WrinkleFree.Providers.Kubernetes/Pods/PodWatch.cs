using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace WrinkleFree.Providers.Kubernetes.Pods;

/// <summary>
/// Every wf pod of one namespace as the API last told it, kept by one list + watch (never a request per pod): the watch
/// resumes from the last resourceVersion it saw, and relists when the API answers 410 Gone (the version is too old).
/// </summary>
internal sealed class PodWatch : IAsyncDisposable
{
    private readonly IKubernetes _client;
    private readonly string _namespace;
    private readonly TimeSpan _retryDelay;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, V1Pod> _pods = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _deletedUids = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;

    private PodWatch(IKubernetes client, string @namespace, TimeSpan retryDelay, TimeProvider time, ILogger logger)
    {
        _client = client;
        _namespace = @namespace;
        _retryDelay = retryDelay;
        _time = time;
        _logger = logger;
    }

    /// <summary>Why the last list or watch failed, while it has not succeeded since; null when in sync.</summary>
    public string? LastError { get; private set; }

    public static PodWatch Start(IKubernetes client, string @namespace, TimeSpan retryDelay, TimeProvider time, ILogger logger)
    {
        var watch = new PodWatch(client, @namespace, retryDelay, time, logger);
        watch._loop = Task.Run(() => watch.RunAsync(watch._stopping.Token));
        return watch;
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

    public V1Pod? Get(string name) => _pods.GetValueOrDefault(name);

    /// <summary>Whether a pod with this UID was seen deleted.</summary>
    public bool WasDeleted(string uid) => _deletedUids.ContainsKey(uid);

    /// <summary>Completes at the next change the watch sees.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

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
                Log.WatchRelist(_logger, _namespace);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.Gone))
            {
                Log.WatchRelist(_logger, _namespace);
            }
            catch (Exception e)
            {
                LastError = KubernetesApiErrors.MessageOf(e);
                Log.WatchFailed(_logger, _namespace, LastError);
                await Task.Delay(_retryDelay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<string> ListAsync(CancellationToken cancellationToken)
    {
        var list = await _client.CoreV1.ListNamespacedPodAsync(_namespace, labelSelector: PodNames.Selector, cancellationToken: cancellationToken).ConfigureAwait(false);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pod in list.Items)
        {
            seen.Add(pod.Metadata.Name);
            _pods[pod.Metadata.Name] = pod;
        }

        // Pods that went while nobody watched (the watch was down, or the version expired) were deleted.
        foreach (var (name, pod) in _pods)
        {
            if (!seen.Contains(name) && _pods.TryRemove(name, out _))
                _deletedUids[pod.Metadata.Uid] = 0;
        }

        LastError = null;
        _synced.TrySetResult();
        Notify();
        return list.Metadata.ResourceVersion;
    }

    /// <summary>Follows events from <paramref name="version"/>; returns the version to resume from, or null to relist.</summary>
    private async Task<string?> WatchAsync(string version, CancellationToken cancellationToken)
    {
        var gone = false;
        var events = _client.CoreV1.WatchListNamespacedPodAsync(
            _namespace,
            allowWatchBookmarks: true,
            labelSelector: PodNames.Selector,
            resourceVersion: version,
            timeoutSeconds: 300,
            onError: e => gone |= KubernetesApiErrors.Is(e, HttpStatusCode.Gone),
            cancellationToken: cancellationToken);
        await foreach (var (type, pod) in events.ConfigureAwait(false))
        {
            version = pod.Metadata?.ResourceVersion ?? version;
            switch (type)
            {
                case WatchEventType.Added or WatchEventType.Modified:
                    _pods[pod.Metadata!.Name] = pod;
                    break;
                case WatchEventType.Deleted:
                    _deletedUids[pod.Metadata!.Uid] = 0;
                    // Only this pod: a same-named successor may have been added already.
                    if (_pods.TryGetValue(pod.Metadata.Name, out var held) && held.Metadata.Uid == pod.Metadata.Uid)
                        _pods.TryRemove(new KeyValuePair<string, V1Pod>(pod.Metadata.Name, held));
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
