namespace WrinkleFree.Service.Daemon;

/// <summary>An error answer of the daemon's admin API: its message already says what to do next.</summary>
public sealed class DaemonApiException : Exception
{
    /// <summary>Creates the exception from an error answer.</summary>
    public DaemonApiException(int statusCode, string code, string message)
        : base(message)
    {
        StatusCode = statusCode;
        Code = code;
    }

    /// <summary>The HTTP status of the answer.</summary>
    public int StatusCode { get; }

    /// <summary>The machine-readable error code (unknown_service, spec_error, exists...).</summary>
    public string Code { get; }
}
