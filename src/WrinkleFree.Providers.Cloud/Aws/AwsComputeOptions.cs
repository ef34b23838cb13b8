using Amazon.Runtime;

namespace WrinkleFree.Providers.Cloud.Aws;

/// <summary>How <see cref="AwsCompute"/> reaches EC2.</summary>
public sealed record AwsComputeOptions
{
    /// <summary>
    /// The EC2 API endpoint instead of the region's own (a test double, a VPC endpoint); null: the SDK's choice, which
    /// honours AWS_ENDPOINT_URL_EC2 and AWS_ENDPOINT_URL.
    /// </summary>
    public Uri? Endpoint { get; init; }

    /// <summary>Credentials; null: the SDK's default chain (environment, profile, SSO, instance or container role).</summary>
    public AWSCredentials? Credentials { get; init; }

    /// <summary>How often the SDK retries a throttled or failed call before the error reaches the provider.</summary>
    public int MaxErrorRetry { get; init; } = 3;
}
