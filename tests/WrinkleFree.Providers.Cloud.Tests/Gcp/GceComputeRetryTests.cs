using System.Net;
using WrinkleFree.Providers.Cloud.Compute;
using WrinkleFree.Testing.Cloud;

namespace WrinkleFree.Providers.Cloud.Tests.Gcp;

/// <summary>Contract tests: which Compute Engine failures are retried and which move placement on at once.</summary>
public sealed class GceComputeRetryTests
{
    private static readonly TimeSpan Timeout = GceHarness.Timeout;

    [Fact]
    public async Task LaunchAsync_TransientBackendErrors_RetriedAndSucceeds()
    {
        await using var gce = await GceHarness.StartAsync();
        gce.Api.FailNextRequests(2);

        var instance = await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r1"), gce.Cancel).WaitAsync(Timeout);

        Assert.Equal(CloudInstanceState.Pending, instance.State);
        Assert.Equal(3, gce.Api.Requests.Count(r => r.StartsWith("POST ", StringComparison.Ordinal)));
        Assert.Single(gce.Api.InsertRequests);
    }

    [Fact]
    public async Task DescribeAsync_RateLimitedEveryTime_ThrowsAfterMaxAttempts()
    {
        await using var gce = await GceHarness.StartAsync();
        gce.Api.FailNextRequests(10, HttpStatusCode.TooManyRequests, "rateLimitExceeded");

        var error = await Assert.ThrowsAsync<CloudApiException>(
            () => gce.Compute.DescribeAsync(new CloudInstanceRef("chat-r2", "us-central1", "us-central1-a"), gce.Cancel).WaitAsync(Timeout));

        Assert.Equal("rateLimitExceeded", error.Code);
        Assert.Contains("HTTP 429", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, gce.Api.Requests.Count);
    }

    [Fact]
    public async Task LaunchAsync_CapacityAs503_NotRetried()
    {
        await using var gce = await GceHarness.StartAsync();
        gce.Api.InjectInsertError("us-central1-a", GceInjectedError.ResourcePoolExhausted("us-central1-a") with { HttpStatus = 503 });

        var error = await Assert.ThrowsAsync<CloudCapacityException>(
            () => gce.Compute.LaunchAsync(GceHarness.Launch("chat-r3"), gce.Cancel).WaitAsync(Timeout));

        Assert.Equal("ZONE_RESOURCE_POOL_EXHAUSTED", error.Code);
        Assert.Single(gce.Api.Requests);
    }
}
