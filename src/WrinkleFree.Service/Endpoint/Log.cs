using Microsoft.Extensions.Logging;

namespace WrinkleFree.Service.Endpoint;

internal static partial class Log
{
    [LoggerMessage(6801, LogLevel.Error, "cannot read the endpoint options {Path}: {Reason}")]
    public static partial void NoOptions(ILogger logger, string path, string reason);

    [LoggerMessage(6802, LogLevel.Information, "{Service}: endpoint serving on {Url}, controlled through {Socket}")]
    public static partial void Serving(ILogger logger, string service, Uri url, string socket);

    [LoggerMessage(6803, LogLevel.Information, "{Service}: endpoint stopping")]
    public static partial void Stopping(ILogger logger, string service);

    [LoggerMessage(6804, LogLevel.Warning, "new balancer options not applied: {Reason}")]
    public static partial void ReconfigureRejected(ILogger logger, string reason);

    [LoggerMessage(6805, LogLevel.Warning, "{Service}: the endpoint process does not answer ({Reason})")]
    public static partial void Unreachable(ILogger logger, string service, string reason);

    [LoggerMessage(6806, LogLevel.Warning, "{Service}: the endpoint process {Pid} is gone; starting a new one on {Url}")]
    public static partial void Restarting(ILogger logger, string service, int pid, Uri url);

    [LoggerMessage(6807, LogLevel.Information, "{Service}: adopted the running endpoint process {Pid} on {Url}")]
    public static partial void Adopted(ILogger logger, string service, int pid, string url);

    [LoggerMessage(6808, LogLevel.Information, "{Service}: started endpoint process {Pid} on {Url}")]
    public static partial void Started(ILogger logger, string service, int pid, string url);
}
