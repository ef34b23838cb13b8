using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace WrinkleFree.Providers.Kubernetes;

/// <summary>The list + watch pairs the provider and the job runner keep (see <see cref="ResourceWatch{T}"/>).</summary>
internal static class Watches
{
    // Long enough that an idle watch costs the API almost nothing; a stream that ends is resumed from its version.
    private const int WatchSeconds = 300;

    /// <summary>Pods matching <paramref name="selector"/> in <paramref name="namespace"/>.</summary>
    public static ResourceWatch<V1Pod> Pods(IKubernetes client, string @namespace, string selector, TimeSpan retryDelay, TimeProvider time, ILogger logger) =>
        ResourceWatch<V1Pod>.Start(
            async ct =>
            {
                var list = await client.CoreV1.ListNamespacedPodAsync(@namespace, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false);
                return (list.Items, list.Metadata.ResourceVersion);
            },
            (version, onError, ct) => client.CoreV1.WatchListNamespacedPodAsync(
                @namespace, allowWatchBookmarks: true, labelSelector: selector, resourceVersion: version, timeoutSeconds: WatchSeconds, onError: onError, cancellationToken: ct),
            $"pods ({selector}) in namespace {@namespace}", retryDelay, time, logger);

    /// <summary>batch/v1 Jobs matching <paramref name="selector"/> in <paramref name="namespace"/>.</summary>
    public static ResourceWatch<V1Job> Jobs(IKubernetes client, string @namespace, string selector, TimeSpan retryDelay, TimeProvider time, ILogger logger) =>
        ResourceWatch<V1Job>.Start(
            async ct =>
            {
                var list = await client.BatchV1.ListNamespacedJobAsync(@namespace, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false);
                return (list.Items, list.Metadata.ResourceVersion);
            },
            (version, onError, ct) => client.BatchV1.WatchListNamespacedJobAsync(
                @namespace, allowWatchBookmarks: true, labelSelector: selector, resourceVersion: version, timeoutSeconds: WatchSeconds, onError: onError, cancellationToken: ct),
            $"jobs ({selector}) in namespace {@namespace}", retryDelay, time, logger);
}
