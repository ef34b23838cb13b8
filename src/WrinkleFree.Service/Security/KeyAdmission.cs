namespace WrinkleFree.Service.Security;

/// <summary>
/// The gate's answer for one request: admitted (with the key's usage to release when the request ends; none when the
/// service is open) or refused with the status, OpenAI error code, message and Retry-After to answer.
/// </summary>
internal sealed record KeyAdmission
{
    public int Status { get; init; }

    public string Message { get; init; } = "";

    public string Type { get; init; } = "invalid_request_error";

    public string Code { get; init; } = "";

    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The admitted request's key, whose usage <see cref="KeyUsage.Release"/> must be called once.</summary>
    public KeyUsage? Usage { get; init; }

    public EndpointKey? Key { get; init; }

    public bool Admitted => Status == 0;

    public static KeyAdmission Allowed(EndpointKey? key, KeyUsage? usage) => new() { Key = key, Usage = usage };

    public static KeyAdmission Refused(int status, string code, string message, TimeSpan? retryAfter = null, string type = "invalid_request_error") =>
        new() { Status = status, Code = code, Message = message, RetryAfter = retryAfter, Type = type };
}
