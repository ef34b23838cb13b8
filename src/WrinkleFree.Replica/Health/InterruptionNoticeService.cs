using Microsoft.Extensions.Hosting;

namespace WrinkleFree.Replica.Health;

/// <summary>
/// Polls the cloud's instance metadata for a spot interruption notice and, when one comes, drains the replica: /health
/// answers 503 "draining" with the reason, new generations are refused (503 code "draining") so the load balancer sends
/// them elsewhere, in-flight requests finish, and /metrics shows the notice. A metadata service that cannot be reached
/// is logged once per outage and asked again; it never stops the replica serving.
/// </summary>
internal sealed class InterruptionNoticeService(IInterruptionNoticeSource source, ReplicaContext replica, TimeSpan pollInterval, IDisposable? owned = null)
    : BackgroundService
{
    public static readonly Uri AwsMetadataUrl = new("http://169.254.169.254/");
    public static readonly Uri GcpMetadataUrl = new("http://metadata.google.internal/");

    /// <summary>The watcher <paramref name="replica"/>'s options ask for; null for <c>--interruption-notice none</c>.</summary>
    public static InterruptionNoticeService? Create(ReplicaContext replica)
    {
        var options = replica.Options;
        if (options.InterruptionNotice == "none")
        {
            return null;
        }

        var aws = options.InterruptionNotice == "aws";
        var baseUrl = options.InstanceMetadataUrl is { } configured ? new Uri(configured.TrimEnd('/') + "/") : aws ? AwsMetadataUrl : GcpMetadataUrl;
        // The metadata service is link-local: a proxy from the environment must never see these requests.
        var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(2) }) { Timeout = Timeout.InfiniteTimeSpan };
        IInterruptionNoticeSource source = aws ? new AwsSpotNoticeSource(http, baseUrl, replica.Time) : new GcpPreemptionNoticeSource(http, baseUrl, replica.Time);
        return new InterruptionNoticeService(source, replica, options.InterruptionPollInterval, http);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.Watching(replica.Logger, source.Cloud, source.BaseUrl);
        var unreachable = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var notice = await source.CheckAsync(stoppingToken).ConfigureAwait(false);
                if (unreachable)
                {
                    unreachable = false;
                    Log.MetadataReachable(replica.Logger, source.Cloud, source.BaseUrl);
                }

                if (notice is not null)
                {
                    Apply(notice);
                    return;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Whatever goes wrong asking, the replica keeps serving: a missed notice costs a few failed requests, a
                // crashed replica costs all of them.
                if (!unreachable)
                {
                    unreachable = true;
                    Log.MetadataUnreachable(replica.Logger, source.Cloud, source.BaseUrl, e.Message);
                }
            }

            try
            {
                await Task.Delay(pollInterval, replica.Time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Apply(InterruptionNotice notice)
    {
        replica.InterruptionNotice = notice;
        replica.Draining = true;
        replica.Metrics.InterruptionNotice.Set(1);
        replica.Metrics.InterruptionTime.Set(notice.TerminatesAt.ToUnixTimeMilliseconds() / 1000.0);
        var load = replica.Backend.GetLoad();
        Log.NoticeReceived(replica.Logger, notice.Reason, load.ActiveRequests, load.QueueDepth);
    }

    public override void Dispose()
    {
        base.Dispose();
        owned?.Dispose();
    }
}
