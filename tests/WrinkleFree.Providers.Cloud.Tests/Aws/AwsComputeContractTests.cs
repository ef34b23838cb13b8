using Amazon.Runtime;
using WrinkleFree.Providers.Cloud.Aws;
using WrinkleFree.Providers.Cloud.Compute;
using WrinkleFree.Testing.Cloud;

namespace WrinkleFree.Providers.Cloud.Tests.Aws;

/// <summary>
/// Contract tests: the real AmazonEC2Client (through <see cref="AwsCompute"/>) against the EC2 API test double, so what
/// is pinned is the wire protocol the SDK speaks and the answers it parses, not a mock's idea of them.
/// </summary>
public sealed class AwsComputeContractTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private Ec2ApiTestDouble _api = null!;
    private AwsCompute _compute = null!;

    public async Task InitializeAsync()
    {
        _api = await Ec2ApiTestDouble.StartAsync().WaitAsync(Deadline);
        _compute = new AwsCompute(new AwsComputeOptions { Endpoint = _api.Url, Credentials = new BasicAWSCredentials("AKIDTEST", "secret"), MaxErrorRetry = 0 });
    }

    public async Task DisposeAsync()
    {
        _compute.Dispose();
        await _api.DisposeAsync().AsTask().WaitAsync(Deadline);
    }

    private static CloudLaunch Launch(string zone = "us-east-1a", string token = "svc-1-v1-a", bool spot = true) => new()
    {
        Region = "us-east-1",
        Zone = zone,
        Name = "wf-svc-1",
        InstanceType = "r7a.large",
        Image = "ami-0123456789abcdef0",
        Spot = spot,
        UserData = "#!/bin/bash\necho hello\n",
        Tags = new Dictionary<string, string> { ["wrinklefree-service"] = "svc", ["wrinklefree-replica"] = "1" },
        ClientToken = token,
        Network = new Dictionary<string, string> { ["key_name"] = "ops", ["subnet_id"] = "subnet-1", ["security_group_ids"] = "sg-1, sg-2" },
    };

    [Fact]
    public async Task LaunchAsync_Spot_SendsSpotMarketOptionsTagsUserDataAndNetwork()
    {
        var instance = await _compute.LaunchAsync(Launch(), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(CloudInstanceState.Pending, instance.State);
        Assert.Equal("us-east-1a", instance.Ref.Zone);
        Assert.True(instance.Spot);
        Assert.Equal("r7a.large", instance.InstanceType);
        Assert.Equal("svc", instance.Tags["wrinklefree-service"]);
        Assert.Equal("wf-svc-1", instance.Tags["Name"]);
        var sent = Assert.Single(_api.RunRequests);
        Assert.Equal("spot", sent["InstanceMarketOptions.MarketType"]);
        Assert.Equal("terminate", sent["InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior"]);
        Assert.Equal("one-time", sent["InstanceMarketOptions.SpotOptions.SpotInstanceType"]);
        Assert.Equal("svc-1-v1-a", sent["ClientToken"]);
        Assert.Equal("ops", sent["KeyName"]);
        Assert.Equal("subnet-1", sent["SubnetId"]);
        Assert.Equal("sg-1", sent["SecurityGroupId.1"]);
        Assert.Equal("sg-2", sent["SecurityGroupId.2"]);
        Assert.Equal("#!/bin/bash\necho hello\n", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(sent["UserData"])));
    }

    [Fact]
    public async Task LaunchAsync_OnDemand_SendsNoMarketOptions()
    {
        var instance = await _compute.LaunchAsync(Launch(spot: false), CancellationToken.None).WaitAsync(Deadline);

        Assert.False(instance.Spot);
        Assert.False(Assert.Single(_api.RunRequests).ContainsKey("InstanceMarketOptions.MarketType"));
    }

    [Fact]
    public async Task LaunchAsync_SameClientTokenTwice_ReturnsTheFirstInstance()
    {
        var first = await _compute.LaunchAsync(Launch(), CancellationToken.None).WaitAsync(Deadline);
        var again = await _compute.LaunchAsync(Launch(), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(first.Ref.Id, again.Ref.Id);
        Assert.Single(_api.Instances);
    }

    [Fact]
    public async Task DescribeAsync_RunningInstance_ReportsRunningWithItsAddress()
    {
        var launched = await _compute.LaunchAsync(Launch(), CancellationToken.None).WaitAsync(Deadline);

        var described = await _compute.DescribeAsync(launched.Ref, CancellationToken.None).WaitAsync(Deadline);

        Assert.NotNull(described);
        Assert.Equal(CloudInstanceState.Running, described.State);
        Assert.Equal(_api.Instances[0].PrivateIp, described.PrivateIp);
        Assert.NotNull(described.LaunchTime);
    }

    [Fact]
    public async Task DescribeAsync_UnknownInstance_ReturnsNull()
    {
        var described = await _compute.DescribeAsync(new CloudInstanceRef("i-0fffffffffffffff0", "us-east-1", "us-east-1a"), CancellationToken.None).WaitAsync(Deadline);

        Assert.Null(described);
    }

    [Fact]
    public async Task DescribeAsync_PreemptedSpotInstance_ReportsPreemptedWithTheStateReason()
    {
        var launched = await _compute.LaunchAsync(Launch(), CancellationToken.None).WaitAsync(Deadline);
        await _api.PreemptAsync(launched.Ref.Id).WaitAsync(Deadline);

        var described = await _compute.DescribeAsync(launched.Ref, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(CloudInstanceState.Preempted, described!.State);
        Assert.StartsWith("Server.SpotInstanceTermination", described.StateReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAsync_ByTags_ReturnsOnlyInstancesCarryingAllOfThem()
    {
        await _compute.LaunchAsync(Launch(token: "a"), CancellationToken.None).WaitAsync(Deadline);
        var other = Launch(token: "b") with { Tags = new Dictionary<string, string> { ["wrinklefree-service"] = "other", ["wrinklefree-replica"] = "1" } };
        await _compute.LaunchAsync(other, CancellationToken.None).WaitAsync(Deadline);

        var found = await _compute.ListAsync(["us-east-1a", "us-east-1b"], new Dictionary<string, string> { ["wrinklefree-service"] = "svc" }, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal("svc", Assert.Single(found).Tags["wrinklefree-service"]);
        var filters = _api.Requests.Last(r => r["Action"] == "DescribeInstances");
        Assert.Equal("tag:wrinklefree-service", filters["Filter.1.Name"]);
    }

    [Fact]
    public async Task TerminateAsync_RunningInstance_EndsItAsUserInitiated()
    {
        var launched = await _compute.LaunchAsync(Launch(), CancellationToken.None).WaitAsync(Deadline);

        await _compute.TerminateAsync(launched.Ref, CancellationToken.None).WaitAsync(Deadline);
        var described = await _compute.DescribeAsync(launched.Ref, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(CloudInstanceState.Terminated, described!.State);
    }

    [Fact]
    public async Task TerminateAsync_UnknownInstance_Succeeds()
    {
        await _compute.TerminateAsync(new CloudInstanceRef("i-0fffffffffffffff0", "us-east-1", "us-east-1a"), CancellationToken.None).WaitAsync(Deadline);
    }

    [Theory]
    [InlineData("InsufficientInstanceCapacity")]
    [InlineData("SpotMaxPriceTooLow")]
    [InlineData("InsufficientCapacityOnHost")]
    [InlineData("Unsupported")]
    public async Task LaunchAsync_ZoneWithoutCapacity_ThrowsCloudCapacityException(string code)
    {
        _api.FailLaunches("us-east-1a", code);

        var e = await Assert.ThrowsAsync<CloudCapacityException>(() => _compute.LaunchAsync(Launch(), CancellationToken.None).WaitAsync(Deadline));

        Assert.Equal(code, e.Code);
        Assert.Contains("RunInstances", e.Message, StringComparison.Ordinal);
        Assert.Empty(_api.Instances);
    }

    [Theory]
    [InlineData("VcpuLimitExceeded")]
    [InlineData("MaxSpotInstanceCountExceeded")]
    [InlineData("InstanceLimitExceeded")]
    public async Task LaunchAsync_QuotaExhausted_ThrowsCloudQuotaException(string code)
    {
        _api.FailLaunches("us-east-1a", code, "You have requested more vCPU capacity than your current vCPU limit allows");

        var e = await Assert.ThrowsAsync<CloudQuotaException>(() => _compute.LaunchAsync(Launch(), CancellationToken.None).WaitAsync(Deadline));

        Assert.Equal(code, e.Code);
    }

    [Fact]
    public async Task LaunchAsync_OtherError_ThrowsCloudApiExceptionNamingCallCodeAndMessage()
    {
        _api.FailLaunches("us-east-1a", "UnauthorizedOperation", "You are not authorized to perform this operation.");

        var e = await Assert.ThrowsAsync<CloudApiException>(() => _compute.LaunchAsync(Launch(), CancellationToken.None).WaitAsync(Deadline));

        Assert.IsType<CloudApiException>(e);
        Assert.Equal("UnauthorizedOperation", e.Code);
        Assert.Contains("RunInstances", e.Message, StringComparison.Ordinal);
        Assert.Contains("You are not authorized", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("us-east-1a", "us-east-1")]
    [InlineData("us-east-1", "us-east-1")]
    [InlineData("eu-central-2b", "eu-central-2")]
    [InlineData("us-west-2-lax-1a", "us-west-2")]
    public void RegionOf_ZoneOrRegion_GivesTheRegion(string location, string region) =>
        Assert.Equal(region, AwsCompute.RegionOf(location));
}
