using WrinkleFree.Providers.Cloud.Compute;
using WrinkleFree.Providers.Cloud.Gcp;

namespace WrinkleFree.Providers.Cloud.Tests.Gcp;

/// <summary>Contract tests: GceCompute's instances.insert against the Compute Engine API test double.</summary>
public sealed class GceComputeLaunchTests
{
    private static readonly TimeSpan Timeout = GceHarness.Timeout;

    [Fact]
    public async Task LaunchAsync_Spot_SendsSpotSchedulingLabelsAndUserData()
    {
        await using var gce = await GceHarness.StartAsync();
        var launch = GceHarness.Launch("chat-r1");

        var instance = await gce.Compute.LaunchAsync(launch, gce.Cancel).WaitAsync(Timeout);

        var (zone, body) = Assert.Single(gce.Api.InsertRequests);
        Assert.Equal("us-central1-a", zone);
        var scheduling = body["scheduling"]!;
        Assert.Equal("SPOT", (string?)scheduling["provisioningModel"]);
        Assert.Equal("DELETE", (string?)scheduling["instanceTerminationAction"]);
        Assert.True((bool?)scheduling["preemptible"]);
        Assert.Equal("zones/us-central1-a/machineTypes/n2-standard-8", (string?)body["machineType"]);
        Assert.Equal("projects/debian-cloud/global/images/family/debian-12", (string?)body["disks"]![0]!["initializeParams"]!["sourceImage"]);
        Assert.Equal("global/networks/default", (string?)body["networkInterfaces"]![0]!["network"]);
        var metadata = Assert.Single(body["metadata"]!["items"]!.AsArray());
        Assert.Equal("user-data", (string?)metadata!["key"]);
        Assert.Equal(launch.UserData, (string?)metadata["value"]);
        Assert.Equal(launch.Tags, body["labels"]!.AsObject().ToDictionary(l => l.Key, l => (string)l.Value!));

        Assert.Equal(new CloudInstanceRef("chat-r1", "us-central1", "us-central1-a"), instance.Ref);
        Assert.Equal(CloudInstanceState.Pending, instance.State);
        Assert.True(instance.Spot);
        Assert.Equal("n2-standard-8", instance.InstanceType);
        Assert.StartsWith("10.128.0.", instance.PrivateIp, StringComparison.Ordinal);
        Assert.StartsWith("34.118.0.", instance.PublicIp, StringComparison.Ordinal);
        Assert.NotNull(instance.LaunchTime);
        Assert.Equal(launch.Tags, instance.Tags);
    }

    [Fact]
    public async Task LaunchAsync_OnDemandWithNetworkSettings_SendsStandardSchedulingAndNetwork()
    {
        await using var gce = await GceHarness.StartAsync();
        var launch = GceHarness.Launch("chat-r2", spot: false) with
        {
            Network = new Dictionary<string, string>
            {
                ["network"] = "wf-net",
                ["subnetwork"] = "wf-subnet",
                ["service_account"] = "wf-replica@wf-test-project.iam.gserviceaccount.com",
                ["public_ip"] = "false",
                ["disk_size_gb"] = "50",
                ["network_tags"] = "wf-replica, http-server",
            },
        };

        var instance = await gce.Compute.LaunchAsync(launch, gce.Cancel).WaitAsync(Timeout);

        var body = Assert.Single(gce.Api.InsertRequests).Body;
        Assert.Equal("STANDARD", (string?)body["scheduling"]!["provisioningModel"]);
        Assert.Null(body["scheduling"]!["instanceTerminationAction"]);
        var nic = body["networkInterfaces"]![0]!;
        Assert.Equal("global/networks/wf-net", (string?)nic["network"]);
        Assert.Equal("regions/us-central1/subnetworks/wf-subnet", (string?)nic["subnetwork"]);
        Assert.Null(nic["accessConfigs"]);
        Assert.Equal("wf-replica@wf-test-project.iam.gserviceaccount.com", (string?)body["serviceAccounts"]![0]!["email"]);
        Assert.Equal("50", (string?)body["disks"]![0]!["initializeParams"]!["diskSizeGb"]);
        Assert.Equal(["wf-replica", "http-server"], body["tags"]!["items"]!.AsArray().Select(t => (string)t!));
        Assert.False(instance.Spot);
        Assert.Null(instance.PublicIp);
    }

    [Fact]
    public async Task LaunchAsync_SameClientTokenTwice_StartsOneInstance()
    {
        await using var gce = await GceHarness.StartAsync();
        var launch = GceHarness.Launch("chat-r3", token: "replica-3-us-central1-a");

        var first = await gce.Compute.LaunchAsync(launch, gce.Cancel).WaitAsync(Timeout);
        var second = await gce.Compute.LaunchAsync(launch, gce.Cancel).WaitAsync(Timeout);

        Assert.Equal(first.Ref, second.Ref);
        Assert.Equal(["chat-r3"], gce.Api.InstanceNames("us-central1-a"));
        var inserts = gce.Api.Requests.Where(r => r.StartsWith("POST ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, inserts.Count);
        Assert.Equal(inserts[0], inserts[1]);
        Assert.Contains("requestId=" + GceCompute.RequestId("replica-3-us-central1-a"), inserts[0], StringComparison.Ordinal);
        Assert.Single(gce.Api.InsertRequests);
    }

    [Fact]
    public async Task LaunchAsync_NameExistsFromEarlierRequest_ReturnsThatInstance()
    {
        await using var gce = await GceHarness.StartAsync();
        var first = await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r4", token: "a"), gce.Cancel).WaitAsync(Timeout);

        // A retry after GCE forgot the request id: the name answers 409 and the launch gets the instance by name.
        var again = await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r4", token: "b"), gce.Cancel).WaitAsync(Timeout);

        Assert.Equal(first.Ref, again.Ref);
        Assert.Equal(["chat-r4"], gce.Api.InstanceNames("us-central1-a"));
    }

    [Fact]
    public async Task LaunchAsync_NameTakenWithOtherLabels_ThrowsNamingTheLabels()
    {
        await using var gce = await GceHarness.StartAsync();
        await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r5"), gce.Cancel).WaitAsync(Timeout);
        var other = GceHarness.Launch("chat-r5", token: "other", tags: new Dictionary<string, string> { ["wf-service"] = "other" });

        var error = await Assert.ThrowsAsync<CloudApiException>(() => gce.Compute.LaunchAsync(other, gce.Cancel).WaitAsync(Timeout));

        Assert.Equal("alreadyExists", error.Code);
        Assert.Contains("wf-service", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ZONE_RESOURCE_POOL_EXHAUSTED")]
    [InlineData("ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS")]
    [InlineData("RESOURCE_AVAILABILITY")]
    public async Task LaunchAsync_ZoneOutOfCapacity_ThrowsCapacityNamingZoneAndCode(string code)
    {
        await using var gce = await GceHarness.StartAsync();
        gce.Api.InjectInsertError("us-central1-b", new Testing.Cloud.GceInjectedError(code, "The zone does not have enough resources available to fulfill the request."));

        var error = await Assert.ThrowsAsync<CloudCapacityException>(
            () => gce.Compute.LaunchAsync(GceHarness.Launch("chat-r6", "us-central1-b"), gce.Cancel).WaitAsync(Timeout));

        Assert.Equal(code, error.Code);
        Assert.Contains("us-central1-b", error.Message, StringComparison.Ordinal);
        Assert.Contains(code, error.Message, StringComparison.Ordinal);
        Assert.Empty(gce.Api.InstanceNames("us-central1-b"));

        // The next zone still has room: this is what placement moves on to.
        var moved = await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r6", "us-central1-c"), gce.Cancel).WaitAsync(Timeout);
        Assert.Equal("us-central1-c", moved.Ref.Zone);
    }

    [Fact]
    public async Task LaunchAsync_RetryAfterCapacityCameBack_StartsInstance()
    {
        await using var gce = await GceHarness.StartAsync();
        var launch = GceHarness.Launch("chat-r13", token: "replica-13-us-central1-a");
        gce.Api.InjectInsertError("us-central1-a", Testing.Cloud.GceInjectedError.ResourcePoolExhausted("us-central1-a"));
        await Assert.ThrowsAsync<CloudCapacityException>(() => gce.Compute.LaunchAsync(launch, gce.Cancel).WaitAsync(Timeout));
        gce.Api.ClearInsertError("us-central1-a");

        // GCE replays the failed operation for the same request id; the launch steps past it instead of failing forever.
        var instance = await gce.Compute.LaunchAsync(launch, gce.Cancel).WaitAsync(Timeout);
        var again = await gce.Compute.LaunchAsync(launch, gce.Cancel).WaitAsync(Timeout);

        Assert.Equal(CloudInstanceState.Pending, instance.State);
        Assert.Equal(instance.Ref, again.Ref);
        Assert.Equal(["chat-r13"], gce.Api.InstanceNames("us-central1-a"));
        var requestIds = gce.Api.Requests.Where(r => r.StartsWith("POST ", StringComparison.Ordinal)).Select(r => r[(r.IndexOf("requestId=", StringComparison.Ordinal) + 10)..]).ToList();
        Assert.Equal(5, requestIds.Count);
        Assert.Equal(2, requestIds.Distinct().Count());
    }

    [Fact]
    public async Task LaunchAsync_OperationNeverDone_ThrowsTimeoutOnInjectedClock()
    {
        await using var gce = await GceHarness.StartAsync();
        gce.Api.HoldOperations = true;
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var http = new HttpClient();
        var options = new GceOptions { PollInterval = TimeSpan.FromSeconds(2), OperationTimeout = TimeSpan.FromMinutes(5) };
        var compute = new GceCompute(http, new GceConnection(gce.Api.Url, new GceFixedTokenSource(GceHarness.Token)), gce.Api.Project, clock, options);

        var launch = compute.LaunchAsync(GceHarness.Launch("chat-r14"), gce.Cancel);
        // Virtual time moves in poll steps until the operation's deadline passes; real time only bounds the test.
        using var deadline = new CancellationTokenSource(Timeout);
        while (!launch.IsCompleted)
        {
            clock.Advance(options.PollInterval);
            await Task.WhenAny(launch, Task.Delay(10, deadline.Token));
        }

        var error = await Assert.ThrowsAsync<CloudApiException>(() => launch);
        Assert.Equal("OPERATION_TIMEOUT", error.Code);
        Assert.Contains("not DONE after 00:05:00", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(403)]
    public async Task LaunchAsync_QuotaExceeded_ThrowsQuota(int? httpStatus)
    {
        await using var gce = await GceHarness.StartAsync();
        var injected = Testing.Cloud.GceInjectedError.CpuQuota("us-central1") with { HttpStatus = httpStatus };
        if (httpStatus is not null)
            injected = injected with { Code = "quotaExceeded" };
        gce.Api.InjectInsertError("us-central1-a", injected);

        var error = await Assert.ThrowsAsync<CloudQuotaException>(
            () => gce.Compute.LaunchAsync(GceHarness.Launch("chat-r7"), gce.Cancel).WaitAsync(Timeout));

        Assert.Equal(injected.Code, error.Code);
        Assert.Contains("us-central1-a", error.Message, StringComparison.Ordinal);
        Assert.Contains("Quota 'CPUS' exceeded", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("security_groups", "sg-1", "security_groups")]
    [InlineData("public_ip", "maybe", "public_ip 'maybe'")]
    [InlineData("disk_size_gb", "5", "disk_size_gb '5'")]
    public async Task LaunchAsync_BadNetworkSetting_ThrowsNamingItAndSendsNothing(string key, string value, string expected)
    {
        await using var gce = await GceHarness.StartAsync();
        var launch = GceHarness.Launch("chat-r8") with { Network = new Dictionary<string, string> { [key] = value } };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => gce.Compute.LaunchAsync(launch, gce.Cancel).WaitAsync(Timeout));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Empty(gce.Api.Requests);
    }

    [Fact]
    public async Task LaunchAsync_LabelValueGceRefuses_ThrowsNamingTheLabel()
    {
        await using var gce = await GceHarness.StartAsync();
        var launch = GceHarness.Launch("chat-r9", tags: new Dictionary<string, string> { ["wf-version"] = "V1.2" });

        var error = await Assert.ThrowsAsync<ArgumentException>(() => gce.Compute.LaunchAsync(launch, gce.Cancel).WaitAsync(Timeout));

        Assert.Contains("wf-version='V1.2'", error.Message, StringComparison.Ordinal);
        Assert.Empty(gce.Api.Requests);
    }

    [Fact]
    public async Task LaunchAsync_UserDataOverGceLimit_ThrowsNamingSize()
    {
        await using var gce = await GceHarness.StartAsync();
        var launch = GceHarness.Launch("chat-r15") with { UserData = new string('x', 256 * 1024 + 1) };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => gce.Compute.LaunchAsync(launch, gce.Cancel).WaitAsync(Timeout));

        Assert.Contains("user-data of chat-r15 is 262145 bytes", error.Message, StringComparison.Ordinal);
        Assert.Empty(gce.Api.Requests);
    }

    [Fact]
    public void RequestId_SameToken_SameValidUuid()
    {
        var id = GceCompute.RequestId("replica-1-us-central1-a");

        Assert.Equal(id, GceCompute.RequestId("replica-1-us-central1-a"));
        Assert.NotEqual(id, GceCompute.RequestId("replica-1-us-central1-b"));
        Assert.True(Guid.TryParse(id, out var parsed) && parsed != Guid.Empty);
    }

    [Fact]
    public async Task LaunchAsync_AnyCall_SendsBearerToken()
    {
        await using var gce = await GceHarness.StartAsync();

        await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r10"), gce.Cancel).WaitAsync(Timeout);

        Assert.NotEmpty(gce.Api.Authorizations);
        Assert.All(gce.Api.Authorizations, a => Assert.Equal("Bearer " + GceHarness.Token, a));
    }

    [Fact]
    public async Task LaunchAsync_TokenRefused_ThrowsNamingCredentials()
    {
        await using var gce = await GceHarness.StartAsync();
        gce.Api.RequiredToken = "another-token";

        var error = await Assert.ThrowsAsync<CloudApiException>(() => gce.Compute.LaunchAsync(GceHarness.Launch("chat-r11"), gce.Cancel).WaitAsync(Timeout));

        Assert.Contains("HTTP 401", error.Message, StringComparison.Ordinal);
        Assert.Contains("credentials", error.Message, StringComparison.Ordinal);
        Assert.IsNotType<CloudCapacityException>(error);
    }

    [Fact]
    public async Task LaunchAsync_InsertOperation_PolledUntilDone()
    {
        await using var gce = await GceHarness.StartAsync();

        await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r12"), gce.Cancel).WaitAsync(Timeout);

        var insert = Assert.Single(gce.Api.Operations("us-central1-a"));
        Assert.Equal("DONE", (string?)insert["status"]);
        Assert.Equal(2, gce.Api.Requests.Count(r => r.Contains("/operations/", StringComparison.Ordinal)));
    }
}
