using WrinkleFree.Providers.Cloud.Compute;
using WrinkleFree.Providers.Cloud.Tests.Support;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Cloud.Tests.Provider;

/// <summary>The cloud provider driving the real AmazonEC2Client against the EC2 API test double (no processes run).</summary>
public sealed class CloudProviderTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = CloudFixture.Deadline;
    private CloudFixture _cloud = null!;

    public async Task InitializeAsync() => _cloud = await CloudFixture.StartAsync();

    public async Task DisposeAsync() => await _cloud.DisposeAsync();

    [Fact]
    public async Task LaunchAsync_SpotTier_StartsOneTaggedSpotInstanceInTheFirstZone()
    {
        var provider = _cloud.NewProvider();

        var handle = await provider.LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings(port: 9000)), CancellationToken.None).WaitAsync(Deadline);

        var instance = Assert.Single(_cloud.Api.Instances);
        Assert.Equal((instance.InstanceId, "us-east-1a", "us-east-1", "aws"), (handle.InstanceId, handle.Zone, handle.Region, handle.Infra));
        Assert.Equal($"http://{instance.PrivateIp}:9000", handle.EndpointUrl);
        Assert.True(instance.Spot);
        Assert.Equal(("chat", "1", "1", "spot"), (instance.Tags[CloudTags.Service], instance.Tags[CloudTags.Replica], instance.Tags[CloudTags.Version], instance.Tags[CloudTags.Tier]));
        Assert.Equal(ReplicaHandle.FromJson(handle.ToJson()), handle);
    }

    [Fact]
    public async Task LaunchAsync_SameReplicaTwice_OneInstance()
    {
        var provider = _cloud.NewProvider();
        var first = await provider.LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);

        var again = await provider.LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(first, again);
        Assert.Single(_cloud.Api.Instances);
    }

    [Fact]
    public async Task LaunchAsync_AfterAControllerDiedMidLaunch_FindsTheInstanceByItsTags()
    {
        await _cloud.NewProvider().LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);

        var handle = await _cloud.NewProvider().LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(Assert.Single(_cloud.Api.Instances).InstanceId, handle.InstanceId);
        Assert.Single(_cloud.Api.RunRequests);
    }

    [Fact]
    public async Task LaunchAsync_FirstZoneOutOfCapacity_UsesTheNextZoneAndTriesTheFirstOnce()
    {
        _cloud.Api.FailLaunches("us-east-1a");
        var provider = _cloud.NewProvider();

        var handle = await provider.LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal("us-east-1b", handle.Zone);
        Assert.Equal(["us-east-1a", "us-east-1b"], _cloud.Api.RunRequests.Select(r => r["Placement.AvailabilityZone"]));
    }

    [Fact]
    public async Task LaunchAsync_QuotaInTheFirstRegion_SkipsItsOtherZones()
    {
        _cloud.Api.FailLaunches("us-east-1a", "VcpuLimitExceeded", "You have requested more vCPU capacity than your current vCPU limit of 32 allows");
        var provider = _cloud.NewProvider();

        var handle = await provider.LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings(zones: ["us-east-1a", "us-east-1b", "us-west-2a"])), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal("us-west-2a", handle.Zone);
        Assert.Equal("us-west-2", handle.Region);
        Assert.Equal(["us-east-1a", "us-west-2a"], _cloud.Api.RunRequests.Select(r => r["Placement.AvailabilityZone"]));
    }

    [Fact]
    public async Task LaunchAsync_EveryZoneOutOfCapacity_ErrorNamesEachZoneOnce()
    {
        foreach (var zone in new[] { "us-east-1a", "us-east-1b", "us-east-1c" })
            _cloud.Api.FailLaunches(zone);
        var provider = _cloud.NewProvider();

        var e = await Assert.ThrowsAsync<CapacityShortageException>(() => provider.LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline));

        Assert.Contains("us-east-1a: InsufficientInstanceCapacity; us-east-1b: InsufficientInstanceCapacity; us-east-1c: InsufficientInstanceCapacity", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, _cloud.Api.RunRequests.Count);
    }

    [Fact]
    public async Task GetStatusAsync_PreemptedInstance_PreemptedAndTheReplacementStartsInTheNextZone()
    {
        var provider = _cloud.NewProvider();
        var handle = await provider.LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal(ProviderReplicaState.Running, (await provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline)).State);

        await _cloud.Api.PreemptAsync(handle.InstanceId!).WaitAsync(Deadline);
        var status = await provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline);
        var replacement = await provider.LaunchAsync(CloudFixture.Request(2, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);
        var later = await provider.LaunchAsync(CloudFixture.Request(3, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(ProviderReplicaState.Preempted, status.State);
        Assert.Contains("Server.SpotInstanceTermination", status.Detail, StringComparison.Ordinal);
        Assert.Equal("us-east-1b", replacement.Zone);
        Assert.Equal("us-east-1a", later.Zone);
    }

    [Fact]
    public async Task GetStatusAsync_PreemptedInLastZone_EagerNextRegionWrapsToTheFirst()
    {
        _cloud.Api.FailLaunches("us-east-1a");
        _cloud.Api.FailLaunches("us-east-1b");
        var provider = _cloud.NewProvider();
        var handle = await provider.LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);
        _cloud.Api.ClearFailure("us-east-1a");
        _cloud.Api.ClearFailure("us-east-1b");

        await _cloud.Api.PreemptAsync(handle.InstanceId!).WaitAsync(Deadline);
        await provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline);
        var replacement = await provider.LaunchAsync(CloudFixture.Request(2, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal("us-east-1c", handle.Zone);
        Assert.Equal("us-east-1a", replacement.Zone);
    }

    [Fact]
    public async Task GetStatusAsync_PreemptedUnderFailover_TheReplacementTriesTheSameZoneFirst()
    {
        var settings = CloudFixture.Settings(recovery: "FAILOVER");
        var provider = _cloud.NewProvider();
        var handle = await provider.LaunchAsync(CloudFixture.Request(1, settings), CancellationToken.None).WaitAsync(Deadline);

        await _cloud.Api.PreemptAsync(handle.InstanceId!).WaitAsync(Deadline);
        await provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline);
        var replacement = await provider.LaunchAsync(CloudFixture.Request(2, settings), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal("us-east-1a", replacement.Zone);
    }

    [Fact]
    public async Task StopAsync_RunningInstance_TerminatesItAndStatusSaysExited()
    {
        var provider = _cloud.NewProvider();
        var handle = await provider.LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);

        await provider.StopAsync(handle, TimeSpan.FromSeconds(5), CancellationToken.None).WaitAsync(Deadline);
        var status = await provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal("terminated", Assert.Single(_cloud.Api.Instances).State);
        Assert.Equal(ProviderReplicaState.Exited, status.State);
        await provider.StopAsync(handle, TimeSpan.FromSeconds(5), CancellationToken.None).WaitAsync(Deadline);
    }

    [Fact]
    public async Task AdoptAsync_AfterRestart_AdoptsTheRunningInstanceAndLaunchesNoOther()
    {
        var handle = await _cloud.NewProvider().LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);
        var restarted = _cloud.NewProvider();

        var adopted = await restarted.AdoptAsync(ReplicaHandle.FromJson(handle.ToJson()), CancellationToken.None).WaitAsync(Deadline);
        var relaunch = await restarted.LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);

        Assert.True(adopted);
        Assert.Equal(handle.InstanceId, relaunch.InstanceId);
        Assert.Single(_cloud.Api.RunRequests);
    }

    [Fact]
    public async Task AdoptAsync_TerminatedInstanceOrAnotherReplicasTags_NotAdopted()
    {
        var provider = _cloud.NewProvider();
        var handle = await provider.LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);
        var other = await provider.LaunchAsync(CloudFixture.Request(2, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);
        await provider.StopAsync(handle, TimeSpan.FromSeconds(5), CancellationToken.None).WaitAsync(Deadline);

        var restarted = _cloud.NewProvider();

        Assert.False(await restarted.AdoptAsync(handle, CancellationToken.None).WaitAsync(Deadline));
        Assert.False(await restarted.AdoptAsync(other with { ReplicaId = 5 }, CancellationToken.None).WaitAsync(Deadline));
    }

    [Fact]
    public async Task LaunchAsync_UnknownSetting_ErrorNamesIt()
    {
        var settings = CloudFixture.Settings();
        settings["instance_typo"] = "x";

        var e = await Assert.ThrowsAsync<ServiceSpecException>(() => _cloud.NewProvider().LaunchAsync(CloudFixture.Request(1, settings), CancellationToken.None).WaitAsync(Deadline));

        Assert.Equal("settings.instance_typo", e.KeyPath);
        Assert.Empty(_cloud.Api.Requests);
    }

    [Fact]
    public async Task GetLogsAsync_Instance_OneLineNamingTheJournal()
    {
        var provider = _cloud.NewProvider();
        var handle = await provider.LaunchAsync(CloudFixture.Request(1, CloudFixture.Settings()), CancellationToken.None).WaitAsync(Deadline);

        var lines = await provider.GetLogsAsync(handle, tail: 10, follow: false, CancellationToken.None).ToListAsync().AsTask().WaitAsync(Deadline);

        Assert.Contains("journalctl -u wf-replica", Assert.Single(lines), StringComparison.Ordinal);
    }
}
