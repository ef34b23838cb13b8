using Microsoft.Extensions.Logging;

namespace WrinkleFree.Providers.Kubernetes;

internal static partial class Log
{
    [LoggerMessage(7400, LogLevel.Information, "kubernetes: replica {ReplicaId} of {Service} is pod {Pod} in namespace {Namespace}, reached at {Endpoint}")]
    public static partial void Launched(ILogger logger, string service, int replicaId, string pod, string @namespace, string endpoint);

    [LoggerMessage(7401, LogLevel.Information, "kubernetes: the watch of {What} relists (410 Gone or the stream ended without a version)")]
    public static partial void WatchRelist(ILogger logger, string what);

    [LoggerMessage(7402, LogLevel.Warning, "kubernetes: the watch of {What} failed: {Reason}; retrying")]
    public static partial void WatchFailed(ILogger logger, string what, string reason);

    [LoggerMessage(7403, LogLevel.Information, "kubernetes: pod {Pod} in namespace {Namespace} deleted (grace {GraceSeconds} s)")]
    public static partial void Deleted(ILogger logger, string pod, string @namespace, long graceSeconds);

    [LoggerMessage(7404, LogLevel.Warning, "kubernetes: port-forward to pod {Pod} failed: {Reason}")]
    public static partial void ForwardFailed(ILogger logger, string pod, string reason);

    [LoggerMessage(7405, LogLevel.Information, "kubernetes: adopted pod {Pod} (uid {Uid}) in namespace {Namespace}")]
    public static partial void Adopted(ILogger logger, string pod, string uid, string @namespace);

    [LoggerMessage(7406, LogLevel.Warning, "kubernetes: pod {Pod} in namespace {Namespace} not adopted: {Reason}")]
    public static partial void NotAdopted(ILogger logger, string pod, string @namespace, string reason);

    [LoggerMessage(7407, LogLevel.Warning, "kubernetes: pod {Pod} in namespace {Namespace} could not be deleted after its launch failed: {Reason}; delete it by hand")]
    public static partial void CleanupFailed(ILogger logger, string pod, string @namespace, string reason);
}
