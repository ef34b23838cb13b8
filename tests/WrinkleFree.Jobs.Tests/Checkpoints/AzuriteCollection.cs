namespace WrinkleFree.Jobs.Tests.Checkpoints;

/// <summary>The xUnit collection that shares one Azurite (<see cref="AzuriteFixture"/>).</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}
