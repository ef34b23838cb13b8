using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Cloud;

namespace WrinkleFree.Providers.Cloud.Tests.Provider;

/// <summary>
/// The cloud provider on <c>infra: gcp</c>: the tier's project and endpoint make a real GceCompute (the Compute REST calls)
/// against the GCE API test double; names and labels are made GCE-safe, and a restarted provider finds the project in the handle.
/// </summary>
public sealed class CloudProviderGcpTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _home = new("wf-cloud-gcp-home");
    private readonly List<CloudProvider> _providers = [];
    private GceApiTestDouble _api = null!;

    public async Task InitializeAsync() => _api = await GceApiTestDouble.StartAsync(zones: ["us-central1-a", "us-central1-b", "us-central1-c"]).WaitAsync(Deadline);

    public async Task DisposeAsync()
    {
        foreach (var provider in _providers)
            provider.Dispose();
        await _api.DisposeAsync();
        _home.Dispose();
    }

    [Fact]
    public async Task LaunchAsync_GcpSpotTier_PreemptedReplacementGoesToTheNextZonePastAFullOneAndARestartAdoptsIt()
    {
        var provider = NewProvider();
        var first = await provider.LaunchAsync(Request(1), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(("gcp", _api.Project, "us-central1-a", "us-central1"), (first.Infra, first.Project, first.Zone, first.Region));
        var instance = _api.Instance("us-central1-a", "wf-chat-prod-1")!;
        Assert.Equal("SPOT", instance["scheduling"]!["provisioningModel"]!.GetValue<string>());
        Assert.Equal("chat-prod", instance["labels"]![CloudTags.Service]!.GetValue<string>());
        Assert.Equal("spot-tier", instance["labels"]![CloudTags.Tier]!.GetValue<string>());
        Assert.StartsWith("http://", first.EndpointUrl, StringComparison.Ordinal);
        Assert.EndsWith(":8080", first.EndpointUrl, StringComparison.Ordinal);

        await _api.PreemptAsync("us-central1-a", "wf-chat-prod-1", deleteInstance: true).WaitAsync(Deadline);
        Assert.Equal(ProviderReplicaState.Preempted, (await provider.GetStatusAsync(first, CancellationToken.None).WaitAsync(Deadline)).State);
        _api.InjectInsertError("us-central1-b", GceInjectedError.ResourcePoolExhausted("us-central1-b"));

        var second = await provider.LaunchAsync(Request(2), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal("us-central1-c", second.Zone);
        Assert.Equal(["us-central1-a", "us-central1-b", "us-central1-c"], _api.InsertRequests.Select(r => r.Zone));
        var restarted = NewProvider();
        Assert.True(await restarted.AdoptAsync(ReplicaHandle.FromJson(second.ToJson()), CancellationToken.None).WaitAsync(Deadline));
        Assert.Equal(ProviderReplicaState.Running, (await restarted.GetStatusAsync(second, CancellationToken.None).WaitAsync(Deadline)).State);
    }

    [Theory]
    [InlineData("key_name", "ops", "settings.key_name")]
    [InlineData("security_group_ids", "sg-1", "settings.security_group_ids")]
    public void Parse_AwsSettingOnAGcpTier_IsErrorNamingIt(string key, string value, string named)
    {
        var settings = Settings();
        settings[key] = value;

        var error = Assert.Throws<ServiceSpecException>(() => CloudTierSettings.Parse(settings, spot: true, "settings"));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains("is an aws setting and this tier has infra: gcp", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckTierAsync_AtWfUp_ReadsTheSettingsAndNamesWhatIsWrong()
    {
        var provider = NewProvider();
        var tier = new TierSpec { Name = "gcp-spot", Provider = TierProvider.Cloud, Spot = true, Capacity = 4, Settings = Settings() };

        var room = await provider.CheckTierAsync(tier, new ResourcesSpec(), "tiers[2].settings", CancellationToken.None).WaitAsync(Deadline);
        var noZones = Settings();
        noZones.Remove("zones");
        var error = await Assert.ThrowsAsync<ServiceSpecException>(() => provider.CheckTierAsync(tier with { Settings = noZones }, new ResourcesSpec(), "tiers[2].settings", CancellationToken.None)).WaitAsync(Deadline);

        Assert.Equal(4, room.Replicas);
        Assert.Contains("gcp n2-highmem-4 spot in us-central1-a, us-central1-b, us-central1-c", room.Note, StringComparison.Ordinal);
        Assert.Equal(room, provider.KnownCapacity(tier, new ResourcesSpec()));
        Assert.Equal("tiers[2].settings.zones", error.KeyPath);
        Assert.Empty(_api.InsertRequests);
    }

    [Fact]
    public void Parse_GcpTierWithoutProject_IsErrorNamingIt()
    {
        var settings = Settings();
        settings.Remove("project");

        var error = Assert.Throws<ServiceSpecException>(() => CloudTierSettings.Parse(settings, spot: true, "settings"));

        Assert.Contains("settings.project", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_GcpNetworkSettings_ReachTheLaunch()
    {
        var settings = Settings();
        settings["subnetwork"] = "regions/us-central1/subnetworks/wf";
        settings["network_tags"] = new List<object?> { "wf-replica", "allow-lb" };
        settings["public_ip"] = false;
        settings["disk_size_gb"] = 50L;

        var parsed = CloudTierSettings.Parse(settings, spot: true, "settings");

        Assert.Equal(_api.Project, parsed.Project);
        Assert.Equal("regions/us-central1/subnetworks/wf", parsed.Network["subnetwork"]);
        Assert.Equal("wf-replica,allow-lb", parsed.Network["network_tags"]);
        Assert.Equal("false", parsed.Network["public_ip"]);
        Assert.Equal("50", parsed.Network["disk_size_gb"]);
    }

    private CloudProvider NewProvider()
    {
        var provider = new CloudProvider(new ReplicaProviderContext(_home.Path, TimeProvider.System, NullLoggerFactory.Instance),
            new CloudProviderOptions { PollInterval = TimeSpan.FromMilliseconds(50), AddressWait = TimeSpan.FromSeconds(10), ShutdownGrace = TimeSpan.FromSeconds(10) });
        _providers.Add(provider);
        return provider;
    }

    private Dictionary<string, object?> Settings() => new()
    {
        ["infra"] = "gcp",
        ["project"] = _api.Project,
        ["endpoint"] = _api.Url.ToString(),
        ["zones"] = new List<object?> { "us-central1-a", "us-central1-b", "us-central1-c" },
        ["instance_type"] = "n2-highmem-4",
        ["image"] = "projects/debian-cloud/global/images/family/debian-12",
    };

    private ReplicaLaunchRequest Request(int replicaId) => new()
    {
        Service = "Chat.Prod",
        ReplicaId = replicaId,
        Tier = "spot_tier",
        Spot = true,
        Command = "wf",
        Arguments = ["replica"],
        TierSettings = Settings(),
    };
}
