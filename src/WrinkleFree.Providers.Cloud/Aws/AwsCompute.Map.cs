using Amazon.EC2;
using WrinkleFree.Providers.Cloud.Compute;
using Ec2Instance = Amazon.EC2.Model.Instance;

namespace WrinkleFree.Providers.Cloud.Aws;

public sealed partial class AwsCompute
{
    /// <summary>The state reason code EC2 gives an instance it reclaimed from the spot market.</summary>
    public const string SpotTerminationReason = "Server.SpotInstanceTermination";

    private static CloudInstance Map(Ec2Instance instance, string region)
    {
        var reason = instance.StateReason;
        var name = instance.State?.Name?.Value;
        var state = name switch
        {
            "pending" => CloudInstanceState.Pending,
            "running" => CloudInstanceState.Running,
            _ when reason?.Code == SpotTerminationReason => CloudInstanceState.Preempted,
            "shutting-down" or "stopping" or "stopped" => CloudInstanceState.Stopping,
            "terminated" => CloudInstanceState.Terminated,
            _ => throw new CloudApiException($"aws: instance {instance.InstanceId} is in a state this provider does not know: {name ?? "(none)"}"),
        };
        return new CloudInstance
        {
            Ref = new CloudInstanceRef(instance.InstanceId, region, instance.Placement?.AvailabilityZone ?? region),
            State = state,
            StateReason = reason is null ? null : $"{reason.Code}: {reason.Message}",
            PrivateIp = instance.PrivateIpAddress,
            PublicIp = instance.PublicIpAddress,
            Spot = instance.InstanceLifecycle == InstanceLifecycleType.Spot,
            InstanceType = instance.InstanceType?.Value ?? "",
            LaunchTime = instance.LaunchTime is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, at.Kind == DateTimeKind.Unspecified ? DateTimeKind.Utc : at.Kind)) : null,
            Tags = (instance.Tags ?? []).DistinctBy(t => t.Key).ToDictionary(t => t.Key, t => t.Value ?? "", StringComparer.Ordinal),
        };
    }
}
