namespace WrinkleFree.Platform.Http;

/// <summary>
/// The <c>X-Request-Id</c> that ties one client request to the load balancer's and the replica's log lines: kept when
/// the client sent a usable one, made up otherwise, passed on to the replica and echoed in the response.
/// </summary>
public static class RequestId
{
    /// <summary>The header that carries it, as nginx, Heroku and OpenAI's API name it.</summary>
    public const string Header = "X-Request-Id";

    /// <summary>The longest id kept; a longer one is replaced (it would only bloat every log line).</summary>
    public const int MaxLength = 128;

    /// <summary>The client's id when it is usable, else a new one.</summary>
    public static string FromHeader(string? value) => IsUsable(value) ? value! : New();

    /// <summary>A fresh id: 32 hex digits.</summary>
    public static string New() => Guid.NewGuid().ToString("N");

    /// <summary>1 to <see cref="MaxLength"/> visible ASCII characters, so the id cannot break or forge a log line.</summary>
    public static bool IsUsable(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is <= ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }
}
