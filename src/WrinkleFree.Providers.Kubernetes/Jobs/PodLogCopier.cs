using System.Net;
using k8s;
using WrinkleFree.Jobs;

namespace WrinkleFree.Providers.Kubernetes.Jobs;

/// <summary>
/// Copies each pod's container log (pods/log with follow) into the job's log as it comes, one stream per pod, so that
/// <c>wf jobs logs</c> reads a kubernetes job exactly as a local one. A pod's stream ends when its container does.
/// </summary>
internal sealed class PodLogCopier(k8s.Kubernetes client, string @namespace, long jobId, IJobRunReporter reporter) : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);
    private readonly Dictionary<string, Task> _streams = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Starts copying <paramref name="pod"/>'s log unless it is copied already.</summary>
    public void Follow(string pod)
    {
        if (!_streams.ContainsKey(pod))
            _streams[pod] = Task.Run(() => CopyAsync(pod, _stop.Token));
    }

    /// <summary>Waits up to <paramref name="wait"/> for every stream to reach its container's end, then stops the rest.</summary>
    public async Task DrainAsync(TimeSpan wait)
    {
        await Task.WhenAny(Task.WhenAll(_streams.Values), Task.Delay(wait)).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_streams.Values).ConfigureAwait(false);
    }

    private async Task CopyAsync(string pod, CancellationToken cancellationToken)
    {
        try
        {
            await reporter.AppendLogAsync([$"--- wf jobs: job {jobId} pod {pod} ---"], cancellationToken).ConfigureAwait(false);
            while (true)
            {
                Stream body;
                try
                {
                    var response = await client.CoreV1.ReadNamespacedPodLogWithHttpMessagesAsync(
                        pod, @namespace, container: TrainingJobBuilder.ContainerName, follow: true, cancellationToken: cancellationToken).ConfigureAwait(false);
                    body = response.Body;
                }
                catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.BadRequest))
                {
                    // The container is still being created: its log exists once it starts.
                    await Task.Delay(RetryDelay, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                catch (Exception e) when (KubernetesApiErrors.Is(e, HttpStatusCode.NotFound))
                {
                    return;
                }

                using var reader = new StreamReader(body);
                while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
                    await reporter.AppendLogAsync([line], cancellationToken).ConfigureAwait(false);
                return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // Stopped after the job ended, or the stream broke with the pod: what was copied stays in the log.
        }
        catch (Exception e) when (KubernetesApiErrors.StatusOf(e) is not null)
        {
            await reporter.AppendLogAsync([$"--- wf jobs: the log of pod {pod} cannot be read: {KubernetesApiErrors.MessageOf(e)} ---"], CancellationToken.None).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_streams.Values).ConfigureAwait(false);
        _stop.Dispose();
    }
}
