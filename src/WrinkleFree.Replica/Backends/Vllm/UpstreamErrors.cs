using System.Net;
using System.Text.Json;

namespace WrinkleFree.Replica.Backends.Vllm;

/// <summary>Turns upstream failures into <see cref="BackendException"/>s that keep the upstream's status and message.</summary>
internal static class UpstreamErrors
{
    /// <summary>Error bodies longer than this are cut: they are for a message, not a transfer.</summary>
    private const int MaxBodyChars = 16 * 1024;

    private static readonly TimeSpan RetrySoon = TimeSpan.FromSeconds(1);

    public static BackendException Unavailable(string why) =>
        new(503, "server_error", $"upstream unavailable: {why}", code: "upstream_unavailable", retryAfter: RetrySoon);

    public static BackendException Loading() =>
        new(503, "server_error", "upstream is loading", code: "loading", retryAfter: RetrySoon);

    public static BackendException TimedOut(TimeSpan timeout) =>
        new(504, "server_error", $"the upstream sent nothing for {timeout}", code: "upstream_timeout");

    /// <summary>Reads a non-success response: its OpenAI (or vLLM/FastAPI) error body, status and Retry-After.</summary>
    public static async Task<BackendException> FromResponseAsync(HttpResponseMessage response, TimeProvider time, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            body = "";
        }

        if (body.Length > MaxBodyChars)
        {
            body = body[..MaxBodyChars];
        }

        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow() is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero,
            _ => (TimeSpan?)null,
        };
        if (retryAfter is null && response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
        {
            retryAfter = RetrySoon;
        }

        var fallback = body.Trim() is { Length: > 0 } text && !text.StartsWith('{') ? text : $"upstream answered {status} {response.ReasonPhrase}";
        return FromBody(status, body, fallback, retryAfter);
    }

    /// <summary>An error object sent inside the SSE stream (<c>data: {"error": ...}</c>).</summary>
    public static BackendException FromStreamError(JsonElement error)
    {
        var status = error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.Number && code.TryGetInt32(out var n) && n is >= 400 and < 600 ? n : 500;
        return FromElement(status, error, "the upstream failed mid-stream", null);
    }

    private static BackendException FromBody(int status, string body, string fallback, TimeSpan? retryAfter)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                // OpenAI and llama.cpp: {"error":{...}}; some servers: {"error":"text"}; vLLM <= 0.6: the fields at top level;
                // FastAPI's own 404/422: {"detail": ...}.
                if (root.TryGetProperty("error", out var error))
                {
                    return error.ValueKind == JsonValueKind.Object
                        ? FromElement(status, error, fallback, retryAfter)
                        : Make(status, error.ValueKind == JsonValueKind.String ? error.GetString() : fallback, null, null, null, retryAfter);
                }

                if (root.TryGetProperty("message", out _))
                {
                    return FromElement(status, root, fallback, retryAfter);
                }

                if (root.TryGetProperty("detail", out var detail))
                {
                    return Make(status, detail.ValueKind == JsonValueKind.String ? detail.GetString() : detail.GetRawText(), null, null, null, retryAfter);
                }
            }
        }
        catch (JsonException)
        {
        }

        return Make(status, fallback, null, null, null, retryAfter);
    }

    private static BackendException FromElement(int status, JsonElement error, string fallback, TimeSpan? retryAfter) =>
        Make(status, String(error, "message") ?? fallback, String(error, "type"), String(error, "param"), String(error, "code"), retryAfter);

    private static BackendException Make(int status, string? message, string? type, string? param, string? code, TimeSpan? retryAfter) =>
        new(status, type ?? DefaultType(status), message ?? $"upstream answered {status}", param, code, retryAfter);

    // Numeric codes (vLLM repeats the status there) are dropped: OpenAI's code is a string or null.
    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string DefaultType(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        >= 400 and < 500 => "invalid_request_error",
        _ => "server_error",
    };
}
