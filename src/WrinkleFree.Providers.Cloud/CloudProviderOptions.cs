using Amazon.Runtime;
using WrinkleFree.Providers.Cloud.Compute;

namespace WrinkleFree.Providers.Cloud;

/// <summary>How the cloud provider reaches the clouds.</summary>
public sealed record CloudProviderOptions
{
    /// <summary>AWS credentials; null: the SDK's default chain.</summary>
    public AWSCredentials? AwsCredentials { get; init; }

    /// <summary>The EC2 endpoint for tiers that write none (and for handles adopted before their tier launches); null: the SDK's.</summary>
    public Uri? AwsEndpoint { get; init; }

    /// <summary>GCP Compute Engine for <c>infra: gcp</c> tiers; null: such tiers fail to launch, saying so.</summary>
    public ICloudCompute? GcpCompute { get; init; }

    /// <summary>How often a stop or a launch waiting for an address asks the cloud again.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long past the drain timeout a stop waits for the instance to be gone (the OS's own shutdown).</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a launch waits for the instance's private address when RunInstances did not give one.</summary>
    public TimeSpan AddressWait { get; init; } = TimeSpan.FromSeconds(60);
}
