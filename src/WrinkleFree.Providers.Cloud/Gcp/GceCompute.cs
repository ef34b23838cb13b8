using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Providers.Cloud.Compute;

namespace WrinkleFree.Providers.Cloud.Gcp;

/// <summary>
/// <see cref="ICloudCompute"/> over the Compute Engine v1 REST API. No Compute client library is served here, so the few
/// calls (instances.insert/get/list/aggregatedList/delete, zoneOperations.get/list) are written by hand over HttpClient
/// with source-generated JSON (<see cref="GceJsonContext"/>); Google.Apis.Auth supplies the credentials. The same class
/// talks to the real API and to a test double: only <see cref="GceConnection"/> (root address, token source) differs.
/// </summary>
internal sealed partial class GceCompute : ICloudCompute
{
    private readonly HttpClient _http;
    private readonly GceConnection _connection;
    private readonly string _project;
    private readonly GceOperations _operations;
    private readonly GceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <param name="http">Owned by the caller; its BaseAddress is not used.</param>
    /// <param name="connection">Root address and token source.</param>
    /// <param name="project">The GCP project id every call is made in.</param>
    public GceCompute(HttpClient http, GceConnection connection, string project, TimeProvider time, GceOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(time);
        if (string.IsNullOrWhiteSpace(project) || !GceNames.IsProjectId(project))
            throw new ArgumentException($"gcp: project id '{project}' is not a GCP project id (6-30 lower-case letters, digits and hyphens, starting with a letter)", nameof(project));
        _http = http;
        _connection = connection;
        _project = project;
        _options = options ?? new GceOptions();
        if (_options.MaxAttempts < 1)
            throw new ArgumentException($"gcp: MaxAttempts {_options.MaxAttempts} is less than 1", nameof(options));
        _time = time;
        _logger = logger ?? NullLogger.Instance;
        _operations = new GceOperations(this, _options, time);
    }

    /// <summary>
    /// The compute client a tier's settings ask for: Google's API with application default credentials, or, with an
    /// <c>endpoint</c> setting or WF_GCE_ENDPOINT, that address with WF_GCE_TOKEN (or no token).
    /// </summary>
    public static async Task<GceCompute> CreateAsync(string project, string? endpoint, Func<string, string?> environment, HttpClient http, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var connection = await GceConnection.ResolveAsync(endpoint, environment, cancellationToken).ConfigureAwait(false);
        return new GceCompute(http, connection, project, time, logger: logger);
    }

    public string Infra => "gcp";

    public async Task TerminateAsync(CloudInstanceRef instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        GceNames.RequireZone(instance.Zone, "zone");
        GceNames.RequireInstanceName(instance.Id, "instance id");

        // No requestId: a delete is idempotent by itself (404 = gone), and a token reused for a later instance of the
        // same name would make GCE answer with the old operation instead of deleting. Not waiting for the operation
        // matches EC2's TerminateInstances: the instance shows STOPPING and then disappears.
        using var response = await SendAsync(HttpMethod.Delete, InstancePath(instance.Zone, instance.Id), null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return;
        if (!response.IsSuccessStatusCode)
            throw await GceErrors.FromResponseAsync($"instances.delete {instance.Id}", instance.Zone, response, cancellationToken).ConfigureAwait(false);
        var operation = await ReadAsync(response, GceJsonContext.Default.GceOperation, "instances.delete", instance.Zone, cancellationToken).ConfigureAwait(false);
        if (operation.Error is { Errors.Count: > 0 })
            throw GceErrors.FromOperation($"instances.delete {instance.Id}", instance.Zone, operation);
    }

    internal string ZonePath(string zone, string rest) =>
        $"compute/v1/projects/{Uri.EscapeDataString(_project)}/zones/{Uri.EscapeDataString(zone)}/{rest}";

    private string InstancePath(string zone, string name) => ZonePath(zone, "instances/" + Uri.EscapeDataString(name));

    /// <summary>
    /// One call with the bearer token (when the token source has one), retried on 429 and 5xx answers that are not a
    /// capacity or quota error (those move placement on at once); the caller disposes the response.
    /// </summary>
    internal async Task<HttpResponseMessage> SendAsync(HttpMethod method, string relative, Func<HttpContent>? content, CancellationToken cancellationToken)
    {
        var uri = new Uri(_connection.Root, relative);
        var delay = _options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            // A fresh body per attempt: disposing a request disposes its content.
            using var request = new HttpRequestMessage(method, uri) { Content = content?.Invoke() };
            var token = await _connection.Tokens.GetAccessTokenAsync(cancellationToken).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(token))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new CloudApiException($"gcp: {method} {uri} failed: {e.Message}", "HTTP_REQUEST_FAILED", e);
            }

            if (attempt >= _options.MaxAttempts || !await IsTransientAsync(response, cancellationToken).ConfigureAwait(false))
                return response;
            GceLog.Retrying(_logger, method.Method, uri, (int)response.StatusCode, attempt, _options.MaxAttempts, delay);
            response.Dispose();
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            delay *= 2;
        }
    }

    private static async Task<bool> IsTransientAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (status != 429 && status < 500)
            return false;
        // The body is buffered, so the caller can still read it when this answer is final.
        await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        var error = await GceErrors.FromResponseAsync("retry check", "-", response, cancellationToken).ConfigureAwait(false);
        return error is not (CloudCapacityException or CloudQuotaException);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string call, string zone, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
                ?? throw new CloudApiException($"gcp: {call} in zone {zone} returned an empty body");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new CloudApiException($"gcp: {call} in zone {zone} returned JSON that is not a {typeof(T).Name}: {e.Message}", "BAD_RESPONSE", e);
        }
    }

    private static string RegionOf(string zone) => zone[..zone.LastIndexOf('-')];

    private static string LastSegment(string? url) => url is null ? "" : url[(url.LastIndexOf('/') + 1)..];

    private static DateTimeOffset? ParseTime(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : null;
}
