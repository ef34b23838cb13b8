using Amazon.Runtime;
using WrinkleFree.Providers.Cloud.Compute;

namespace WrinkleFree.Providers.Cloud.Aws;

/// <summary>EC2's error codes onto the seam's exceptions: no room in the zone, no quota in the region, or anything else.</summary>
internal static class AwsErrors
{
    // The zone cannot hold this instance (type) now; another zone may.
    private static readonly HashSet<string> Capacity = new(StringComparer.Ordinal)
    {
        "InsufficientInstanceCapacity", "SpotMaxPriceTooLow", "InsufficientCapacityOnHost", "Unsupported",
        "InsufficientHostCapacity", "InsufficientReservedInstanceCapacity",
    };

    // Account limits count per region: no zone of the region helps.
    private static readonly HashSet<string> Quota = new(StringComparer.Ordinal)
    {
        "VcpuLimitExceeded", "MaxSpotInstanceCountExceeded", "InstanceLimitExceeded",
    };

    public static CloudApiException Map(string call, string region, AmazonServiceException e)
    {
        var code = e.ErrorCode;
        var message = $"aws: {call} in {region} failed: {code ?? e.StatusCode.ToString()}: {e.Message}";
        if (code is not null && Capacity.Contains(code))
            return new CloudCapacityException(message, code, e);
        if (code is not null && Quota.Contains(code))
            return new CloudQuotaException(message, code, e);
        return new CloudApiException(message, code, e);
    }
}
