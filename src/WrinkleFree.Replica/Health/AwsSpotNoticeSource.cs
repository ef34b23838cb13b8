using System.Globalization;
using System.Net;
using System.Text.Json;

namespace WrinkleFree.Replica.Health;

/// <summary>
/// EC2's spot interruption notice through IMDSv2: a session token from <c>PUT /latest/api/token</c>, then
/// <c>GET /latest/meta-data/spot/instance-action</c> with it (404 = no notice; 200 = <c>{"action","time"}</c>).
/// </summary>
internal sealed class AwsSpotNoticeSource(HttpClient http, Uri baseUrl, TimeProvider time) : IInterruptionNoticeSource
{
    public const string TokenPath = "latest/api/token";
    public const string ActionPath = "latest/meta-data/spot/instance-action";
    public const string TokenTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
    public const string TokenHeader = "X-aws-ec2-metadata-token";

    // The longest lifetime IMDSv2 grants; renewing a minute early keeps a token from expiring between asking and using it.
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(6);
    private static readonly TimeSpan TokenMargin = TimeSpan.FromMinutes(1);

    // EC2 promises two minutes between the notice and the interruption; used when the notice's time does not parse.
    private static readonly TimeSpan NoticeLeadTime = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);

    private string? _token;
    private DateTimeOffset _tokenExpires;

    public string Cloud => "aws";

    public Uri BaseUrl { get; } = baseUrl;

    public async Task<InterruptionNotice?> CheckAsync(CancellationToken cancellationToken)
    {
        var token = await GetTokenAsync(renew: false, cancellationToken).ConfigureAwait(false);
        var (status, body) = await GetActionAsync(token, cancellationToken).ConfigureAwait(false);
        if (status == HttpStatusCode.Unauthorized)
        {
            // The token was revoked or expired early (an IMDS restart): one fresh token, then the answer stands.
            token = await GetTokenAsync(renew: true, cancellationToken).ConfigureAwait(false);
            (status, body) = await GetActionAsync(token, cancellationToken).ConfigureAwait(false);
        }

        return status switch
        {
            HttpStatusCode.NotFound => null,
            HttpStatusCode.OK => Parse(body),
            _ => throw new HttpRequestException($"GET {new Uri(BaseUrl, ActionPath)} answered {(int)status} {status}", null, status),
        };
    }

    private InterruptionNotice Parse(string body)
    {
        var now = time.GetUtcNow();
        string? action = null;
        DateTimeOffset? at = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (json.RootElement.TryGetProperty("action", out var a) && a.ValueKind == JsonValueKind.String)
                {
                    action = a.GetString();
                }

                if (json.RootElement.TryGetProperty("time", out var t) && t.ValueKind == JsonValueKind.String
                    && DateTimeOffset.TryParse(t.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                {
                    at = parsed;
                }
            }
        }
        catch (JsonException)
        {
            // A 200 here means an interruption is scheduled whatever the body says: drain on the promised lead time.
        }

        return new InterruptionNotice(Cloud, action ?? "unknown", at ?? now + NoticeLeadTime, now);
    }

    private async Task<string> GetTokenAsync(bool renew, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!renew && _token is { } cached && now < _tokenExpires)
        {
            return cached;
        }

        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(BaseUrl, TokenPath));
        request.Headers.Add(TokenTtlHeader, ((int)TokenLifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        var (status, body) = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (status != HttpStatusCode.OK || string.IsNullOrWhiteSpace(body))
        {
            throw new HttpRequestException($"PUT {request.RequestUri} (IMDSv2 token) answered {(int)status} {status}", null, status);
        }

        _token = body.Trim();
        _tokenExpires = now + TokenLifetime - TokenMargin;
        return _token;
    }

    private Task<(HttpStatusCode Status, string Body)> GetActionAsync(string token, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUrl, ActionPath));
        request.Headers.Add(TokenHeader, token);
        return SendAndDisposeAsync(request, cancellationToken);
    }

    private async Task<(HttpStatusCode Status, string Body)> SendAndDisposeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            return await SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(RequestTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await http.SendAsync(request, linked.Token).ConfigureAwait(false);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{request.Method} {request.RequestUri} did not answer within {RequestTimeout.TotalSeconds:0} s");
        }
    }
}
