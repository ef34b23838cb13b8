using Microsoft.Extensions.Logging;

namespace WrinkleFree.Service.Security;

internal static partial class Log
{
    [LoggerMessage(6950, LogLevel.Warning, "endpoint {Service}: auth: open — no API key applies to this service, so anyone who reaches {Url} can use it; create a key with `wf keys create --service {Service}`")]
    public static partial void AuthOpen(ILogger logger, string service, Uri url);

    [LoggerMessage(6951, LogLevel.Information, "endpoint {Service}: auth: {Keys} API key(s) in force")]
    public static partial void AuthKeys(ILogger logger, string service, int keys);

    [LoggerMessage(6952, LogLevel.Information, "endpoint {Service}: refused {Method} {Path}: {Status} {Code}")]
    public static partial void Refused(ILogger logger, string service, string method, string path, int status, string code);

    [LoggerMessage(6953, LogLevel.Warning, "admin API: refused {Method} {Path}: {Status} {Reason}")]
    public static partial void AdminRefused(ILogger logger, string method, string path, int status, string reason);

    [LoggerMessage(6954, LogLevel.Error, "admin API: {Method} {Path} failed")]
    public static partial void AdminFailed(ILogger logger, string method, string path, Exception exception);
}
