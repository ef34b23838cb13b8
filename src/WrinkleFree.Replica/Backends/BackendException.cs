namespace WrinkleFree.Replica.Backends;

/// <summary>
/// An error with an HTTP status and an OpenAI error type, raised by a backend (context too long: 400
/// invalid_request_error; queue full: 429; loading or upstream down: 503). The API layer writes it in the OpenAI shape.
/// </summary>
public sealed class BackendException(int status, string type, string message, string? param = null, string? code = null, TimeSpan? retryAfter = null)
    : Exception(message)
{
    public int Status { get; } = status;

    public string Type { get; } = type;

    public string? Param { get; } = param;

    public string? Code { get; } = code;

    public TimeSpan? RetryAfter { get; } = retryAfter;
}
