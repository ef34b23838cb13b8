using System.Net;
using System.Text.Json;
using WrinkleFree.Providers.Cloud.Compute;

namespace WrinkleFree.Providers.Cloud.Gcp;

/// <summary>
/// Maps Compute Engine's errors onto the seam's exceptions. Capacity and quota show up two ways: as the error codes of a
/// finished operation (ZONE_RESOURCE_POOL_EXHAUSTED, QUOTA_EXCEEDED, ...) and as the reasons of an HTTP error
/// (403 quotaExceeded, or the same upper-case codes); both land on the same exception types.
/// </summary>
internal static class GceErrors
{
    private static readonly HashSet<string> CapacityCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        "ZONE_RESOURCE_POOL_EXHAUSTED",
        "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS",
        "RESOURCE_AVAILABILITY",
        "resourcePoolExhausted",
    };

    private static readonly HashSet<string> QuotaCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        "QUOTA_EXCEEDED",
        "quotaExceeded",
    };

    /// <summary>The exception for a finished operation's errors: the first capacity or quota code wins over others.</summary>
    public static CloudApiException FromOperation(string call, string zone, GceOperation operation)
    {
        var errors = operation.Error?.Errors ?? [];
        var text = errors.Count == 0
            ? $"{operation.HttpErrorStatusCode} {operation.HttpErrorMessage}".Trim()
            : string.Join("; ", errors.Select(e => $"{e.Code}: {e.Message}"));
        return Classify(call, zone, errors.Select(e => e.Code), text, inner: null);
    }

    /// <summary>The exception for a non-success HTTP response, from GCE's JSON error body when there is one.</summary>
    public static async Task<CloudApiException> FromResponseAsync(string call, string zone, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        GceErrorBody? error = null;
        try
        {
            error = JsonSerializer.Deserialize(body, GceJsonContext.Default.GceErrorResponse)?.Error;
        }
        catch (JsonException)
        {
            // Not GCE's error shape (a proxy's HTML page): the raw body goes into the message below.
        }

        var status = (int)response.StatusCode;
        if (error is null)
            return new CloudApiException($"gcp: {call} in zone {zone} failed: HTTP {status}: {Truncate(body)}", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var reasons = (error.Errors ?? []).Select(e => e.Reason).Append(error.Status).ToList();
        var exception = Classify(call, zone, reasons, $"HTTP {status} {FirstCode(reasons) ?? ""}: {error.Message}", inner: null);
        if (exception.GetType() == typeof(CloudApiException) && response.StatusCode == HttpStatusCode.Unauthorized)
            return new CloudApiException(exception.Message + " (the access token was refused: check the credentials)", exception.Code);
        return exception;
    }

    private static CloudApiException Classify(string call, string zone, IEnumerable<string?> codes, string text, Exception? inner)
    {
        var list = codes.Where(c => !string.IsNullOrEmpty(c)).Select(c => c!).ToList();
        var message = $"gcp: {call} in zone {zone} failed: {text}";
        if (list.FirstOrDefault(CapacityCodes.Contains) is { } capacity)
            return new CloudCapacityException(message, capacity, inner);
        if (list.FirstOrDefault(QuotaCodes.Contains) is { } quota)
            return new CloudQuotaException(message, quota, inner);
        return new CloudApiException(message, list.FirstOrDefault(), inner);
    }

    private static string? FirstCode(List<string?> codes) => codes.FirstOrDefault(c => !string.IsNullOrEmpty(c));

    private static string Truncate(string body) => body.Length <= 300 ? body : body[..300] + "...";
}
