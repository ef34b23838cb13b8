using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Cloud.Tests.Provider;

public sealed class CloudTierSettingsTests
{
    private static Dictionary<string, object?> Minimal() => new()
    {
        ["infra"] = "aws",
        ["zones"] = new List<object?> { "us-east-1a", "us-east-1b" },
        ["instance_type"] = "r7a.xlarge",
        ["image"] = "ami-0123456789abcdef0",
    };

    [Fact]
    public void Parse_Minimal_DefaultsPortAndRecovery()
    {
        var settings = CloudTierSettings.Parse(Minimal(), spot: true, "tiers[2].settings");

        Assert.Equal(8080, settings.Port);
        Assert.Equal(CloudRecovery.EagerNextRegion, settings.Recovery);
        Assert.True(settings.Spot);
        Assert.Equal([new CloudZone("us-east-1", "us-east-1a"), new CloudZone("us-east-1", "us-east-1b")], settings.Zones);
    }

    [Fact]
    public void Parse_UnknownKey_ErrorNamesItAndTheKnownOnes()
    {
        var raw = Minimal();
        raw["instance_typ"] = "r7a.xlarge";

        var e = Assert.Throws<ServiceSpecException>(() => CloudTierSettings.Parse(raw, spot: false, "tiers[2].settings"));

        Assert.Equal("tiers[2].settings.instance_typ", e.KeyPath);
        Assert.Contains("instance_type", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zones")]
    [InlineData("instance_type")]
    [InlineData("image")]
    [InlineData("infra")]
    public void Parse_MissingRequiredKey_ErrorNamesIt(string key)
    {
        var raw = Minimal();
        raw.Remove(key);

        var e = Assert.Throws<ServiceSpecException>(() => CloudTierSettings.Parse(raw, spot: false, "s"));

        Assert.Equal($"s.{key}", e.KeyPath);
    }

    [Fact]
    public void Parse_Regions_OrderZonesByRegionPreference()
    {
        var raw = Minimal();
        raw["zones"] = new List<object?> { "us-east-1a", "us-west-2b", "us-east-1c" };
        raw["regions"] = new List<object?> { "us-west-2", "us-east-1" };

        var settings = CloudTierSettings.Parse(raw, spot: true, "s");

        Assert.Equal(["us-west-2b", "us-east-1a", "us-east-1c"], settings.Zones.Select(z => z.Zone));
    }

    [Fact]
    public void Parse_ZoneOutsideTheListedRegions_ErrorNamesTheZone()
    {
        var raw = Minimal();
        raw["regions"] = new List<object?> { "us-east-1" };
        raw["zones"] = new List<object?> { "us-east-1a", "eu-west-1a" };

        var e = Assert.Throws<ServiceSpecException>(() => CloudTierSettings.Parse(raw, spot: true, "s"));

        Assert.Equal("s.zones[1]", e.KeyPath);
    }

    [Fact]
    public void Parse_RegionGivenAsAZone_ErrorSaysToNameZones()
    {
        var raw = Minimal();
        raw["zones"] = new List<object?> { "us-east-1" };

        var e = Assert.Throws<ServiceSpecException>(() => CloudTierSettings.Parse(raw, spot: true, "s"));

        Assert.Contains("is a region, not a zone", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("recovery", "SOMETIMES")]
    [InlineData("infra", "azure")]
    [InlineData("endpoint", "not a url")]
    [InlineData("model_sha256", "abc")]
    public void Parse_BadValue_ErrorNamesTheKey(string key, string value)
    {
        var raw = Minimal();
        raw[key] = value;

        var e = Assert.Throws<ServiceSpecException>(() => CloudTierSettings.Parse(raw, spot: true, "s"));

        Assert.Equal($"s.{key}", e.KeyPath);
    }

    [Fact]
    public void Parse_ModelUrlWithoutChecksum_ErrorAsksForIt()
    {
        var raw = Minimal();
        raw["model_url"] = "s3://models/tiny.gguf";

        var e = Assert.Throws<ServiceSpecException>(() => CloudTierSettings.Parse(raw, spot: true, "s"));

        Assert.Equal("s.model_sha256", e.KeyPath);
    }

    [Fact]
    public void Parse_OneSubnetForSeveralZones_ErrorAsksForSubnetIds()
    {
        var raw = Minimal();
        raw["subnet_id"] = "subnet-1";

        var e = Assert.Throws<ServiceSpecException>(() => CloudTierSettings.Parse(raw, spot: true, "s"));

        Assert.Equal("s.subnet_id", e.KeyPath);
        Assert.Contains("subnet_ids", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SubnetIdsPerZone_EachZoneLaunchesInItsSubnet()
    {
        var raw = Minimal();
        raw["subnet_ids"] = new Dictionary<string, object?> { ["us-east-1a"] = "subnet-a", ["us-east-1b"] = "subnet-b" };

        var settings = CloudTierSettings.Parse(raw, spot: true, "s");

        Assert.Equal(["subnet-a", "subnet-b"], settings.Zones.Select(z => settings.NetworkFor(z)["subnet_id"]));
    }

    [Fact]
    public void Parse_SubnetIdsNamingAnUnlistedZone_ErrorNamesIt()
    {
        var raw = Minimal();
        raw["subnet_ids"] = new Dictionary<string, object?> { ["us-east-1d"] = "subnet-d" };

        var e = Assert.Throws<ServiceSpecException>(() => CloudTierSettings.Parse(raw, spot: true, "s"));

        Assert.Equal("s.subnet_ids.us-east-1d", e.KeyPath);
    }

    [Fact]
    public void Parse_NetworkAndFailover_CarriedAsLaunchNetworkSettings()
    {
        var raw = Minimal();
        raw["zones"] = new List<object?> { "us-east-1a" };
        raw["key_name"] = "ops";
        raw["subnet_id"] = "subnet-1";
        raw["security_group_ids"] = new List<object?> { "sg-1", "sg-2" };
        raw["recovery"] = "FAILOVER";
        raw["port"] = 9000L;

        var settings = CloudTierSettings.Parse(raw, spot: false, "s");

        Assert.Equal("sg-1,sg-2", settings.Network["security_group_ids"]);
        Assert.Equal("ops", settings.Network["key_name"]);
        Assert.Equal("subnet-1", settings.NetworkFor(settings.Zones[0])["subnet_id"]);
        Assert.Equal(CloudRecovery.Failover, settings.Recovery);
        Assert.Equal(9000, settings.Port);
    }

    [Theory]
    [InlineData("gcp", "us-central1-a", "us-central1")]
    [InlineData("aws", "ap-southeast-2c", "ap-southeast-2")]
    public void RegionOf_Zone_GivesItsRegion(string infra, string zone, string region) =>
        Assert.Equal(region, CloudTierSettings.RegionOf(infra, zone));
}
