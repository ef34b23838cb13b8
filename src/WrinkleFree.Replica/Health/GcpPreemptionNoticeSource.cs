using System.Globalization;
using System.Net;

namespace WrinkleFree.Replica.Health;

/// <summary>
/// Compute Engine's preemption notice: <c>GET /computeMetadata/v1/instance/preempted</c> with <c>Metadata-Flavor: Google</c>
/// answers TRUE or FALSE. The first ask answers at once (a notice already out); later ones long-poll with
/// <c>wait_for_change</c> and the last ETag, so the notice arrives the moment it is set.
/// </summary>
internal sealed class GcpPreemptionNoticeSource(HttpClient http, Uri baseUrl, TimeProvider time) : IInterruptionNoticeSource
{
    public const string PreemptedPath = "computeMetadata/v1/instance/preempted";
    public const string FlavorHeader = "Metadata-Flavor";
    public const string Flavor = "Google";

    // The metadata server ends a long poll after timeout_sec with the unchanged value; the client allows a little more.
    private static readonly TimeSpan LongPoll = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);

    private string? _etag;

    public string Cloud => "gcp";

    public Uri BaseUrl { get; } = baseUrl;

    public async Task<InterruptionNotice?> CheckAsync(CancellationToken cancellationToken)
    {
        var path = _etag is null
            ? PreemptedPath
            : $"{PreemptedPath}?wait_for_change=true&last_etag={Uri.EscapeDataString(_etag)}&timeout_sec={(int)LongPoll.TotalSeconds}";
        var limit = _etag is null ? RequestTimeout : LongPoll + TimeSpan.FromSeconds(5);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUrl, path));
        request.Headers.Add(FlavorHeader, Flavor);
        using var timeout = new CancellationTokenSource(limit, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        string body;
        try
        {
            using var response = await http.SendAsync(request, linked.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                // A failed ask forgets the ETag: the next one answers at once instead of waiting on a stale value.
                _etag = null;
                throw new HttpRequestException($"GET {request.RequestUri} answered {(int)response.StatusCode} {response.StatusCode}", null, response.StatusCode);
            }

            body = (await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false)).Trim();
            // The server's ETag is not a quoted entity tag, so the raw header is read rather than the typed one.
            _etag = response.Headers.TryGetValues("ETag", out var tags) ? tags.FirstOrDefault()?.Trim() : null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _etag = null;
            throw new TimeoutException($"GET {request.RequestUri} did not answer within {limit.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s");
        }

        if (string.Equals(body, "TRUE", StringComparison.OrdinalIgnoreCase))
        {
            var now = time.GetUtcNow();
            return new InterruptionNotice(Cloud, "preempt", now + InterruptionNotice.GcpGracePeriod, now);
        }

        return string.Equals(body, "FALSE", StringComparison.OrdinalIgnoreCase)
            ? null
            : throw new HttpRequestException($"GET {request.RequestUri} answered '{body}', expected TRUE or FALSE");
    }
}
