namespace WrinkleFree.Providers.Cloud.Compute;

/// <summary>
/// The few virtual-machine calls the cloud provider makes, one implementation per cloud (AWS EC2 through AWSSDK.EC2, GCP
/// Compute Engine through its REST API). Everything above this seam (placement across zones, recovery policies, user-data,
/// adoption) is the same for every cloud. Implementations map the cloud's errors onto <see cref="CloudCapacityException"/>
/// (this zone has no room: move on), <see cref="CloudQuotaException"/> (the account's quota in a region: move to another
/// region) and <see cref="CloudApiException"/> (anything else, naming the call and the cloud's own code and message).
/// </summary>
public interface ICloudCompute
{
    /// <summary><c>aws</c> or <c>gcp</c>.</summary>
    string Infra { get; }

    /// <summary>
    /// Starts one instance. Idempotent per <see cref="CloudLaunch.ClientToken"/>: a retry with the same token returns the
    /// instance the first call started (EC2's ClientToken; GCE's requestId plus a create-or-get by instance name).
    /// </summary>
    Task<CloudInstance> LaunchAsync(CloudLaunch launch, CancellationToken cancellationToken);

    /// <summary>One instance as the cloud sees it now; null when the cloud no longer knows it.</summary>
    Task<CloudInstance?> DescribeAsync(CloudInstanceRef instance, CancellationToken cancellationToken);

    /// <summary>Every instance, in the given regions/zones, that carries all of <paramref name="tags"/> (labels on GCP).</summary>
    Task<IReadOnlyList<CloudInstance>> ListAsync(IReadOnlyList<string> locations, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken);

    /// <summary>Terminates (deletes) the instance; one that is gone already succeeds.</summary>
    Task TerminateAsync(CloudInstanceRef instance, CancellationToken cancellationToken);
}

/// <summary>Where one instance is: its id (EC2 instance id / GCE instance name) in a region and zone.</summary>
public sealed record CloudInstanceRef(string Id, string Region, string Zone);

/// <summary>One instance to start.</summary>
public sealed record CloudLaunch
{
    public required string Region { get; init; }

    public required string Zone { get; init; }

    /// <summary>The instance name (GCE's instance name; EC2's Name tag); unique per service and replica.</summary>
    public required string Name { get; init; }

    public required string InstanceType { get; init; }

    /// <summary>The machine image (EC2 AMI id, GCE image or image family URL).</summary>
    public required string Image { get; init; }

    public required bool Spot { get; init; }

    /// <summary>The cloud-init user-data the instance boots with (installs wf and the model, starts <c>wf replica</c>).</summary>
    public required string UserData { get; init; }

    /// <summary>Tags (labels on GCP): service, replica, version, tier; what adoption and leak checks find instances by.</summary>
    public required IReadOnlyDictionary<string, string> Tags { get; init; }

    /// <summary>The idempotency token: the same for every retry of one replica's launch in one zone.</summary>
    public required string ClientToken { get; init; }

    /// <summary>Network settings as the tier gives them (key pair, subnet, security groups, network, service account...).</summary>
    public IReadOnlyDictionary<string, string> Network { get; init; } = new Dictionary<string, string>();
}

/// <summary>An instance's life as the provider needs it.</summary>
public enum CloudInstanceState
{
    /// <summary>Asked for, not yet running (EC2 pending; GCE PROVISIONING/STAGING).</summary>
    Pending,

    Running,

    /// <summary>Shutting down or stopping for a reason that is not a preemption.</summary>
    Stopping,

    /// <summary>Gone, not by preemption (terminated by a user or by us).</summary>
    Terminated,

    /// <summary>Taken back by the cloud: EC2 state reason Server.SpotInstanceTermination; GCE a preempted operation/status.</summary>
    Preempted,
}

/// <summary>One instance as the cloud reported it.</summary>
public sealed record CloudInstance
{
    public required CloudInstanceRef Ref { get; init; }

    public required CloudInstanceState State { get; init; }

    /// <summary>The cloud's own reason for the state (EC2 StateReason code and message; GCE statusMessage), when any.</summary>
    public string? StateReason { get; init; }

    public string? PrivateIp { get; init; }

    public string? PublicIp { get; init; }

    public bool Spot { get; init; }

    public required string InstanceType { get; init; }

    public DateTimeOffset? LaunchTime { get; init; }

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
}

/// <summary>A cloud call failed; the message names the cloud, the call, and the cloud's code and message.</summary>
public class CloudApiException(string message, string? code = null, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The cloud's error code (e.g. EC2 <c>UnauthorizedOperation</c>, GCE <c>RESOURCE_NOT_FOUND</c>).</summary>
    public string? Code { get; } = code;
}

/// <summary>
/// The zone has no room for this instance type now (EC2 InsufficientInstanceCapacity / SpotMaxPriceTooLow /
/// InsufficientCapacityOnHost; GCE ZONE_RESOURCE_POOL_EXHAUSTED[_WITH_DETAILS]): try the next zone, do not retry this one
/// at once.
/// </summary>
public sealed class CloudCapacityException(string message, string? code = null, Exception? inner = null) : CloudApiException(message, code, inner);

/// <summary>
/// The account may not start more here (EC2 VcpuLimitExceeded / MaxSpotInstanceCountExceeded / InstanceLimitExceeded; GCE
/// QUOTA_EXCEEDED): no zone of this region helps; try the next region.
/// </summary>
public sealed class CloudQuotaException(string message, string? code = null, Exception? inner = null) : CloudApiException(message, code, inner);
