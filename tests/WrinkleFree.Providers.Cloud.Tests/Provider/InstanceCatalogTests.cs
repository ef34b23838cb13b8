using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Cloud.Tests.Provider;

public sealed class InstanceCatalogTests
{
    private static Dictionary<string, object?> Settings(string infra, string? instanceType = null)
    {
        var raw = new Dictionary<string, object?>
        {
            ["infra"] = infra,
            ["zones"] = new List<object?> { infra == "aws" ? "us-east-1a" : "us-central1-a" },
            ["image"] = "img",
        };
        if (infra == "gcp")
            raw["project"] = "p";
        if (instanceType is not null)
            raw["instance_type"] = instanceType;
        return raw;
    }

    [Theory]
    // The design's production pattern: cpus 16+, memory 256+.
    [InlineData("aws", "16+", "256+", "r7i.8xlarge")]
    [InlineData("gcp", "16+", "256+", "n2d-highmem-32")]
    // Its development pattern: cpus 8+, memory 64+.
    [InlineData("aws", "8+", "64+", "r7i.2xlarge")]
    [InlineData("gcp", "8+", "64+", "n2d-highmem-8")]
    // Exact counts; memory per vCPU.
    [InlineData("aws", "4", null, "c7i.xlarge")]
    [InlineData("aws", "4", "32", "r7i.xlarge")]
    [InlineData("gcp", "8", "2x", "n2d-standard-8")]
    [InlineData("aws", null, "100+", "r7i.4xlarge")]
    public void Parse_NoInstanceType_CheapestTypeThatFitsResources(string infra, string? cpus, string? memory, string expected)
    {
        var settings = CloudTierSettings.Parse(Settings(infra), spot: true, "tiers[1].settings", new ResourcesSpec { Cpus = cpus, Memory = memory });

        Assert.Equal(expected, settings.InstanceType);
        Assert.Contains("the cheapest " + infra + " type with", settings.InstanceTypeReason, StringComparison.Ordinal);
        var chosen = InstanceCatalog.Find(infra, expected)!;
        // Nothing cheaper in the catalog fits.
        Assert.DoesNotContain(InstanceCatalog.All, t => t.Infra == infra && t.OnDemandPerHour < chosen.OnDemandPerHour
            && InstanceCatalog.Fits(t, new ResourcesSpec { Cpus = cpus, Memory = memory }));
    }

    [Fact]
    public void Parse_NothingFits_ErrorNamesTheResourceKeyAndTheLargestType()
    {
        var e = Assert.Throws<ServiceSpecException>(() =>
            CloudTierSettings.Parse(Settings("aws"), spot: true, "tiers[1].settings", new ResourcesSpec { Cpus = "500+" }));

        Assert.Equal("resources.cpus", e.KeyPath);
        Assert.Contains("192 vCPUs", e.Message, StringComparison.Ordinal);
        Assert.Contains("instance_type", e.Message, StringComparison.Ordinal);

        var memory = Assert.Throws<ServiceSpecException>(() =>
            CloudTierSettings.Parse(Settings("gcp"), spot: true, "s", new ResourcesSpec { Cpus = "2", Memory = "64+" }));
        Assert.Equal("resources.memory", memory.KeyPath);
    }

    [Fact]
    public void Parse_WrittenTypeSmallerThanResources_ErrorNamesInstanceType_AWrittenTypeTheCatalogLacksIsTaken()
    {
        var e = Assert.Throws<ServiceSpecException>(() =>
            CloudTierSettings.Parse(Settings("aws", "r7a.xlarge"), spot: true, "tiers[1].settings", new ResourcesSpec { Cpus = "16+", Memory = "256+" }));

        Assert.Equal("tiers[1].settings.instance_type", e.KeyPath);
        Assert.Contains("r7a.xlarge (4 vCPUs, 32 GiB) does not have what resources: asks (cpus 16+, memory 256+)", e.Message, StringComparison.Ordinal);

        var newer = CloudTierSettings.Parse(Settings("aws", "r8a.8xlarge"), spot: true, "s", new ResourcesSpec { Cpus = "16+" });
        Assert.Equal("r8a.8xlarge", newer.InstanceType);
        Assert.Equal("as written", newer.InstanceTypeReason);
    }

    [Fact]
    public void Parse_NoInstanceTypeNorResources_ErrorSaysEitherWorks()
    {
        var e = Assert.Throws<ServiceSpecException>(() => CloudTierSettings.Parse(Settings("aws"), spot: true, "s"));

        Assert.Equal("s.instance_type", e.KeyPath);
        Assert.Contains("resources: {cpus: N+, memory: GB+}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Catalog_EveryTypeIsConsistent_PricesScaleWithSizeWithinAFamily()
    {
        Assert.All(InstanceCatalog.All, t =>
        {
            Assert.True(t.Vcpus >= 2 && t.MemoryGiB >= t.Vcpus && t.OnDemandPerHour > 0, t.ToString());
            Assert.Same(t, InstanceCatalog.Find(t.Infra, t.Name));
        });
        Assert.Equal(InstanceCatalog.All.Count, InstanceCatalog.All.Select(t => t.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(2 * InstanceCatalog.Find("aws", "r7a.4xlarge")!.OnDemandPerHour, InstanceCatalog.Find("aws", "r7a.8xlarge")!.OnDemandPerHour, 4);
    }
}
