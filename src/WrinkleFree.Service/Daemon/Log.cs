using Microsoft.Extensions.Logging;

namespace WrinkleFree.Service.Daemon;

internal static partial class Log
{
    [LoggerMessage(6700, LogLevel.Information, "daemon: admin API on 127.0.0.1:{Port}, {Services} service(s) resumed")]
    public static partial void Listening(ILogger logger, int port, int services);

    [LoggerMessage(6701, LogLevel.Error, "daemon: service {Service} could not be resumed")]
    public static partial void ServiceNotStarted(ILogger logger, string service, Exception exception);

    [LoggerMessage(6702, LogLevel.Information, "daemon: service {Service} created at {Endpoint}")]
    public static partial void ServiceCreated(ILogger logger, string service, Uri endpoint);

    [LoggerMessage(6703, LogLevel.Information, "daemon: service {Service} removed")]
    public static partial void ServiceDeleted(ILogger logger, string service);

    [LoggerMessage(6720, LogLevel.Warning, "daemon: the Prometheus target files could not be written: {Reason}")]
    public static partial void TargetsNotWritten(ILogger logger, string reason);

    [LoggerMessage(6721, LogLevel.Warning, "daemon: stopping the endpoint process {Pid} of '{Service}', a service the state does not hold")]
    public static partial void OrphanEndpoint(ILogger logger, string service, int pid);

    [LoggerMessage(6722, LogLevel.Warning, "daemon: an endpoint could not be told the new API keys now (it gets them when it restarts): {Failure}")]
    public static partial void KeysNotPushed(ILogger logger, string failure);
}
