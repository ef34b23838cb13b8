using Microsoft.Extensions.Logging;

namespace WrinkleFree.Service.Controller;

internal static partial class Log
{
    [LoggerMessage(6600, LogLevel.Information, "{Service}: controller started at {Endpoint}, version {Version}, {Adopted} replica(s) adopted")]
    public static partial void Started(ILogger logger, string service, Uri endpoint, int version, int adopted);

    [LoggerMessage(6601, LogLevel.Information, "{Service}: launching replica {ReplicaId} on tier {Tier}")]
    public static partial void Launching(ILogger logger, string service, int replicaId, string tier);

    [LoggerMessage(6602, LogLevel.Warning, "{Service}: replica {ReplicaId} on tier {Tier} could not be provisioned: {Reason}")]
    public static partial void LaunchFailed(ILogger logger, string service, int replicaId, string tier, string reason);

    [LoggerMessage(6603, LogLevel.Information, "{Service}: replica {ReplicaId} {From} -> {To}")]
    public static partial void StatusChanged(ILogger logger, string service, int replicaId, string from, string to);

    [LoggerMessage(6604, LogLevel.Information, "{Service}: draining replica {ReplicaId}")]
    public static partial void Draining(ILogger logger, string service, int replicaId);

    [LoggerMessage(6605, LogLevel.Warning, "{Service}: replica {ReplicaId} not adopted: {Reason}")]
    public static partial void NotAdopted(ILogger logger, string service, int replicaId, string reason);

    [LoggerMessage(6606, LogLevel.Error, "{Service}: reconcile tick failed; retrying next tick")]
    public static partial void TickFailed(ILogger logger, string service, Exception exception);

    [LoggerMessage(6607, LogLevel.Warning, "{Service}: stopping replica {ReplicaId} failed")]
    public static partial void StopFailed(ILogger logger, string service, int replicaId, Exception exception);

    [LoggerMessage(6608, LogLevel.Information, "{Service}: updated to version {Version} (new replicas: {Rolling})")]
    public static partial void Updated(ILogger logger, string service, int version, bool rolling);

    [LoggerMessage(6609, LogLevel.Information, "{Service}: tier capacities found by the providers are now {Capacities} (one per tier, '-': as written)")]
    public static partial void CapacityChanged(ILogger logger, string service, string capacities);

    [LoggerMessage(6620, LogLevel.Warning, "{Service}: replica {ReplicaId} {Status}: {Reason}")]
    public static partial void ReplicaFailed(ILogger logger, string service, int replicaId, string status, string reason);

    [LoggerMessage(6621, LogLevel.Warning, "{Service}: event {Kind} not recorded: {Reason}")]
    public static partial void EventNotRecorded(ILogger logger, string service, string kind, string reason);

    [LoggerMessage(6622, LogLevel.Warning, "{Service}: reading the replicas' token counters for `wf cost` failed; trying again next round")]
    public static partial void UsageScrapeFailed(ILogger logger, string service, Exception exception);
}
