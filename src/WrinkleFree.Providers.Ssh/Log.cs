using Microsoft.Extensions.Logging;

namespace WrinkleFree.Providers.Ssh;

internal static partial class Log
{
    [LoggerMessage(7300, LogLevel.Information, "ssh: replica {ReplicaId} of {Service} started on {Node}, reached at {Endpoint}")]
    public static partial void Launched(ILogger logger, string service, int replicaId, string node, string endpoint);

    [LoggerMessage(7301, LogLevel.Warning, "ssh: node {Node} does not answer: {Reason}; its replicas are not ready until it does")]
    public static partial void NodeLost(ILogger logger, string node, string reason);

    [LoggerMessage(7302, LogLevel.Information, "ssh: node {Node} answers again")]
    public static partial void NodeBack(ILogger logger, string node);

    [LoggerMessage(7303, LogLevel.Warning, "ssh: replica {ReplicaId} of {Service} is to stop but node {Node} does not answer; it is stopped when the node returns")]
    public static partial void StopDeferred(ILogger logger, string service, int replicaId, string node);

    [LoggerMessage(7304, LogLevel.Information, "ssh: stopped replica {ReplicaId} of {Service} on {Node}, replaced while the node was away")]
    public static partial void StaleStopped(ILogger logger, string service, int replicaId, string node);

    [LoggerMessage(7305, LogLevel.Warning, "ssh: checking node {Node} failed")]
    public static partial void NodeCheckFailed(ILogger logger, string node, Exception exception);
}
