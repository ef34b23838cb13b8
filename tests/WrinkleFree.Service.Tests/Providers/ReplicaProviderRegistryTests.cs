using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Service.Tests.Providers;

public sealed class ReplicaProviderRegistryTests
{
    private static readonly ReplicaProviderContext Context = new(Path.GetTempPath(), TimeProvider.System, NullLoggerFactory.Instance);

    [Fact]
    public void Create_Defaults_IsTheLocalProviderOnly()
    {
        var providers = ReplicaProviderRegistry.Create(ReplicaProviderRegistry.Defaults, Context);

        Assert.Equal([ProviderNames.Local], providers.Keys);
        Assert.Equal(ProviderNames.Local, providers[ProviderNames.Local].Name);
    }

    [Fact]
    public void Create_TwoFactoriesWithOneName_IsRefusedNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => ReplicaProviderRegistry.Create([new LocalProviderFactory(), new LocalProviderFactory()], Context));

        Assert.Contains("'local'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_FactoryWhoseProviderHasAnotherName_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => ReplicaProviderRegistry.Create([new Misnamed()], Context));

        Assert.Contains("'ssh'", e.Message, StringComparison.Ordinal);
    }

    private sealed class Misnamed : IReplicaProviderFactory
    {
        public string Name => ProviderNames.Ssh;

        public IReplicaProvider Create(ReplicaProviderContext context) => new LocalProviderFactory().Create(context);
    }
}
