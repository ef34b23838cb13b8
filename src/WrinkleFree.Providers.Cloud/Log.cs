using Microsoft.Extensions.Logging;

namespace WrinkleFree.Providers.Cloud;

internal static partial class Log
{
    [LoggerMessage(7500, LogLevel.Information, "cloud: replica {ReplicaId} of {Service} is {Infra} instance {InstanceId} in {Zone}{Market}, reached at {Endpoint}")]
    public static partial void Launched(ILogger logger, string service, int replicaId, string infra, string instanceId, string zone, string market, string endpoint);

    [LoggerMessage(7501, LogLevel.Warning, "cloud: no room for replica {ReplicaId} of {Service} in {Zone}: {Reason}; trying the next zone")]
    public static partial void NoCapacity(ILogger logger, string service, int replicaId, string zone, string reason);

    [LoggerMessage(7502, LogLevel.Warning, "cloud: quota reached for replica {ReplicaId} of {Service} in region {Region}: {Reason}; skipping its other zones")]
    public static partial void NoQuota(ILogger logger, string service, int replicaId, string region, string reason);

    [LoggerMessage(7503, LogLevel.Warning, "cloud: instance {InstanceId} in {Zone} was preempted ({Reason}); the next launch of tier {Tier} starts at {NextZone}")]
    public static partial void Preempted(ILogger logger, string instanceId, string zone, string reason, string tier, string nextZone);

    [LoggerMessage(7504, LogLevel.Information, "cloud: instance {InstanceId} in {Zone} terminated")]
    public static partial void Terminated(ILogger logger, string instanceId, string zone);

    [LoggerMessage(7505, LogLevel.Information, "cloud: adopted instance {InstanceId} in {Zone} as replica {ReplicaId} of {Service}")]
    public static partial void Adopted(ILogger logger, string instanceId, string zone, int replicaId, string service);

    [LoggerMessage(7506, LogLevel.Warning, "cloud: instance {InstanceId} not adopted: {Reason}")]
    public static partial void NotAdopted(ILogger logger, string instanceId, string reason);

    [LoggerMessage(7507, LogLevel.Information, "cloud: replica {ReplicaId} of {Service} already runs as instance {InstanceId} (found by its tags); not launching another")]
    public static partial void FoundByTags(ILogger logger, string service, int replicaId, string instanceId);
}
