using WrinkleFree.Providers.Cloud.Compute;
using WrinkleFree.Testing.Cloud;

namespace WrinkleFree.Providers.Cloud.Tests.Gcp;

/// <summary>Contract tests: instances.get/list/delete and preemption reporting against the Compute Engine API test double.</summary>
public sealed class GceComputeDescribeTests
{
    private static readonly TimeSpan Timeout = GceHarness.Timeout;

    [Fact]
    public async Task DescribeAsync_Lifecycle_MapsEveryStatus()
    {
        await using var gce = await GceHarness.StartAsync();
        var launched = await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r1", spot: false), gce.Cancel).WaitAsync(Timeout);
        Assert.Equal(CloudInstanceState.Pending, launched.State);

        Assert.Equal(CloudInstanceState.Running, (await DescribeAsync(gce, launched.Ref))!.State);
        foreach (var (status, state) in new[]
        {
            ("PROVISIONING", CloudInstanceState.Pending),
            ("STAGING", CloudInstanceState.Pending),
            ("STOPPING", CloudInstanceState.Stopping),
            ("SUSPENDING", CloudInstanceState.Stopping),
            ("TERMINATED", CloudInstanceState.Terminated),
        })
        {
            gce.Api.SetStatus("us-central1-a", "chat-r1", status);
            Assert.Equal(state, (await DescribeAsync(gce, launched.Ref))!.State);
        }

        gce.Api.SetStatus("us-central1-a", "chat-r1", "TERMINATED", "Instance was stopped by its guest OS.");
        Assert.Equal("Instance was stopped by its guest OS.", (await DescribeAsync(gce, launched.Ref))!.StateReason);
    }

    [Fact]
    public async Task DescribeAsync_UnknownInstance_ReturnsNull()
    {
        await using var gce = await GceHarness.StartAsync();

        Assert.Null(await DescribeAsync(gce, new CloudInstanceRef("never-launched", "us-central1", "us-central1-a")));
    }

    [Fact]
    public async Task DescribeAsync_PreemptedSpot_ReportsPreemptedWithReason()
    {
        await using var gce = await GceHarness.StartAsync();
        var launched = await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r2"), gce.Cancel).WaitAsync(Timeout);

        await gce.Api.PreemptAsync("us-central1-a", "chat-r2").WaitAsync(Timeout);
        var described = await DescribeAsync(gce, launched.Ref);

        Assert.Equal(CloudInstanceState.Preempted, described!.State);
        Assert.Contains("compute.instances.preempted", described.StateReason, StringComparison.Ordinal);
        Assert.Contains("Instance was preempted.", described.StateReason, StringComparison.Ordinal);
        Assert.Contains(gce.Api.Requests, r => r.StartsWith("GET /compute/v1/projects/wf-test-project/zones/us-central1-a/operations?filter=(operationType = \"compute.instances.preempted\")", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DescribeAsync_PreemptedSpotDeletedByGce_ReportsPreempted()
    {
        await using var gce = await GceHarness.StartAsync();
        var launched = await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r3"), gce.Cancel).WaitAsync(Timeout);

        await gce.Api.PreemptAsync("us-central1-a", "chat-r3", deleteInstance: true).WaitAsync(Timeout);
        var described = await DescribeAsync(gce, launched.Ref);

        Assert.Equal(CloudInstanceState.Preempted, described!.State);
        Assert.Contains("instance deleted", described.StateReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DescribeAsync_SpotStoppedWithoutPreemption_ReportsTerminated()
    {
        await using var gce = await GceHarness.StartAsync();
        var launched = await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r4"), gce.Cancel).WaitAsync(Timeout);
        await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r5"), gce.Cancel).WaitAsync(Timeout);
        await gce.Api.PreemptAsync("us-central1-a", "chat-r5").WaitAsync(Timeout);

        gce.Api.SetStatus("us-central1-a", "chat-r4", "TERMINATED");
        var described = await DescribeAsync(gce, launched.Ref);

        // Another instance's preemption in the same zone is not this one's.
        Assert.Equal(CloudInstanceState.Terminated, described!.State);
    }

    [Fact]
    public async Task DescribeAsync_RelaunchedAfterPreemption_NewInstanceNotPreempted()
    {
        await using var gce = await GceHarness.StartAsync();
        await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r6", token: "first"), gce.Cancel).WaitAsync(Timeout);
        await gce.Api.PreemptAsync("us-central1-a", "chat-r6", deleteInstance: true).WaitAsync(Timeout);
        var again = await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r6", token: "second"), gce.Cancel).WaitAsync(Timeout);

        gce.Api.SetStatus("us-central1-a", "chat-r6", "TERMINATED");

        // The earlier instance of this name was preempted; this one (another id) was not.
        Assert.Equal(CloudInstanceState.Terminated, (await DescribeAsync(gce, again.Ref))!.State);
    }

    [Fact]
    public async Task ListAsync_ByLabelsAcrossZones_FindsOnlyMatching()
    {
        await using var gce = await GceHarness.StartAsync();
        gce.Api.PageSize = 1;
        var chat = new Dictionary<string, string> { ["wf-service"] = "chat", ["wf-tier"] = "spot" };
        var other = new Dictionary<string, string> { ["wf-service"] = "other", ["wf-tier"] = "spot" };
        await gce.Compute.LaunchAsync(GceHarness.Launch("chat-a1", "us-central1-a", tags: chat), gce.Cancel).WaitAsync(Timeout);
        await gce.Compute.LaunchAsync(GceHarness.Launch("chat-a2", "us-central1-a", tags: chat), gce.Cancel).WaitAsync(Timeout);
        await gce.Compute.LaunchAsync(GceHarness.Launch("chat-b1", "us-central1-b", tags: chat), gce.Cancel).WaitAsync(Timeout);
        await gce.Compute.LaunchAsync(GceHarness.Launch("other-b1", "us-central1-b", tags: other), gce.Cancel).WaitAsync(Timeout);
        await gce.Compute.LaunchAsync(GceHarness.Launch("chat-e1", "europe-west4-a", tags: chat), gce.Cancel).WaitAsync(Timeout);

        var zones = await gce.Compute.ListAsync(["us-central1-a", "us-central1-b"], new Dictionary<string, string> { ["wf-service"] = "chat" }, gce.Cancel).WaitAsync(Timeout);
        var region = await gce.Compute.ListAsync(["us-central1"], chat, gce.Cancel).WaitAsync(Timeout);
        var everywhere = await gce.Compute.ListAsync(["us-central1", "europe-west4-a"], chat, gce.Cancel).WaitAsync(Timeout);

        Assert.Equal(["chat-a1", "chat-a2", "chat-b1"], zones.Select(i => i.Ref.Id).Order(StringComparer.Ordinal));
        Assert.All(zones, i => Assert.Equal("chat", i.Tags["wf-service"]));
        Assert.Equal(["chat-a1", "chat-a2", "chat-b1"], region.Select(i => i.Ref.Id).Order(StringComparer.Ordinal));
        Assert.Equal(["chat-a1", "chat-a2", "chat-b1", "chat-e1"], everywhere.Select(i => i.Ref.Id).Order(StringComparer.Ordinal));
        Assert.Contains(gce.Api.Requests, r => r.Contains("pageToken=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListAsync_LocationNeitherZoneNorRegion_ThrowsNamingIt()
    {
        await using var gce = await GceHarness.StartAsync();

        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => gce.Compute.ListAsync(["us-central1-a", "eu-somewhere"], new Dictionary<string, string>(), gce.Cancel).WaitAsync(Timeout));

        Assert.Contains("'eu-somewhere'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TerminateAsync_Twice_SecondSucceeds()
    {
        await using var gce = await GceHarness.StartAsync();
        var launched = await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r7"), gce.Cancel).WaitAsync(Timeout);

        await gce.Compute.TerminateAsync(launched.Ref, gce.Cancel).WaitAsync(Timeout);
        await gce.Compute.TerminateAsync(launched.Ref, gce.Cancel).WaitAsync(Timeout);

        Assert.Empty(gce.Api.InstanceNames("us-central1-a"));
        Assert.Null(await DescribeAsync(gce, launched.Ref));
        Assert.Equal(2, gce.Api.Requests.Count(r => r == "DELETE /compute/v1/projects/wf-test-project/zones/us-central1-a/instances/chat-r7"));
    }

    [Fact]
    public async Task LaunchAsync_WithRunner_RunsUserDataAndReportsItsAddress()
    {
        await using var gce = await GceHarness.StartAsync();
        using var folder = new Testing.TempDirectory("wf-gce-runner");
        var seen = Path.Combine(folder.Path, "user-data");
        GceInstanceProcess? process = null;
        gce.Api.Runner = (start, _) =>
        {
            process = GceInstanceProcess.Start("printf '%s' \"$USER_DATA\" > \"$SEEN\"; exec sleep 300",
                new Dictionary<string, string> { ["USER_DATA"] = start.UserData, ["SEEN"] = seen });
            return Task.FromResult(new GceRunningInstance("127.0.0.7", process));
        };
        var launch = GceHarness.Launch("chat-r8");

        var launched = await gce.Compute.LaunchAsync(launch, gce.Cancel).WaitAsync(Timeout);

        Assert.Equal("127.0.0.7", launched.PrivateIp);
        Assert.NotNull(process);
        await WaitForFileAsync(seen);
        Assert.Equal(launch.UserData, await File.ReadAllTextAsync(seen, gce.Cancel).WaitAsync(Timeout));

        await gce.Api.PreemptAsync("us-central1-a", "chat-r8").WaitAsync(Timeout);
        Assert.True(process.HasExited);
    }

    [Fact]
    public async Task PreemptAsync_InstanceMetadata_PreemptedTurnsTrueForWatcher()
    {
        await using var gce = await GceHarness.StartAsync();
        Uri? metadata = null;
        gce.Api.Runner = (start, _) =>
        {
            metadata = start.MetadataRoot;
            return Task.FromResult(new GceRunningInstance("127.0.0.8", null));
        };
        await gce.Compute.LaunchAsync(GceHarness.Launch("chat-r10"), gce.Cancel).WaitAsync(Timeout);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Metadata-Flavor", "Google");
        var preempted = new Uri(metadata!, "computeMetadata/v1/instance/preempted");
        using var first = await http.GetAsync(preempted, gce.Cancel).WaitAsync(Timeout);
        Assert.Equal("FALSE", await first.Content.ReadAsStringAsync(gce.Cancel).WaitAsync(Timeout));
        var etag = first.Headers.ETag!.Tag;

        // last_etag makes the watch answer at once if the preemption lands before the request does.
        var watch = http.GetStringAsync(new Uri(preempted + "?wait_for_change=true&last_etag=" + Uri.EscapeDataString(etag)), gce.Cancel);
        await gce.Api.PreemptAsync("us-central1-a", "chat-r10").WaitAsync(Timeout);

        Assert.Equal("TRUE", await watch.WaitAsync(Timeout));
        using var bare = new HttpClient();
        using var refused = await bare.GetAsync(preempted, gce.Cancel).WaitAsync(Timeout);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task LaunchAsync_RunnerFails_ThrowsWithRunnersError()
    {
        await using var gce = await GceHarness.StartAsync();
        gce.Api.Runner = (_, _) => throw new InvalidOperationException("no wf binary built");

        var error = await Assert.ThrowsAsync<CloudApiException>(() => gce.Compute.LaunchAsync(GceHarness.Launch("chat-r9"), gce.Cancel).WaitAsync(Timeout));

        Assert.Equal("TEST_DOUBLE_RUNNER_FAILED", error.Code);
        Assert.Contains("no wf binary built", error.Message, StringComparison.Ordinal);
        Assert.Empty(gce.Api.InstanceNames("us-central1-a"));
    }

    private static Task<CloudInstance?> DescribeAsync(GceHarness gce, CloudInstanceRef instance) =>
        gce.Compute.DescribeAsync(instance, gce.Cancel).WaitAsync(Timeout);

    private static async Task WaitForFileAsync(string path)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        while (!File.Exists(path) || new FileInfo(path).Length == 0)
            await Task.Delay(20, deadline.Token);
    }
}
