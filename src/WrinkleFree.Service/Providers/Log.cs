using Microsoft.Extensions.Logging;

namespace WrinkleFree.Service.Providers;

internal static partial class Log
{
    [LoggerMessage(6400, LogLevel.Information, "local: launched {Service}/{ReplicaId} as pid {Pid} on {Endpoint}, log {LogPath}")]
    public static partial void Launched(ILogger logger, string service, int replicaId, int pid, string endpoint, string logPath);

    [LoggerMessage(6401, LogLevel.Information, "local: stopping {Service}/{ReplicaId} (process group {Pid}), drain up to {Drain}")]
    public static partial void Stopping(ILogger logger, string service, int replicaId, int pid, TimeSpan drain);

    [LoggerMessage(6402, LogLevel.Warning, "local: {Service}/{ReplicaId} (process group {Pid}) did not stop within {Drain}; killing it")]
    public static partial void Killing(ILogger logger, string service, int replicaId, int pid, TimeSpan drain);

    [LoggerMessage(6403, LogLevel.Information, "local: adopted {Service}/{ReplicaId} (pid {Pid})")]
    public static partial void Adopted(ILogger logger, string service, int replicaId, int pid);

    [LoggerMessage(6404, LogLevel.Warning, "local: not adopting {Service}/{ReplicaId} (pid {Pid}): {Reason}")]
    public static partial void AdoptRejected(ILogger logger, string service, int replicaId, int? pid, string reason);
}
