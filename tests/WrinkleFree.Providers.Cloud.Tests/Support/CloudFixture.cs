using Amazon.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Service.Providers;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Cloud;

namespace WrinkleFree.Providers.Cloud.Tests.Support;

/// <summary>The EC2 double, a WF home, and cloud providers (one per "controller") pointed at the double.</summary>
internal sealed class CloudFixture : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly List<CloudProvider> _providers = [];

    private CloudFixture(Ec2ApiTestDouble api) => Api = api;

    public Ec2ApiTestDouble Api { get; }

    public TempDirectory Home { get; } = new("wf-cloud-home");

    public static async Task<CloudFixture> StartAsync() => new(await Ec2ApiTestDouble.StartAsync().WaitAsync(Deadline));

    /// <summary>A new provider, as a (re)started controller makes one.</summary>
    public CloudProvider NewProvider()
    {
        var provider = new CloudProvider(
            new ReplicaProviderContext(Home.Path, TimeProvider.System, NullLoggerFactory.Instance),
            new CloudProviderOptions
            {
                AwsCredentials = new BasicAWSCredentials("AKIDTEST", "secret"),
                AwsEndpoint = Api.Url,
                PollInterval = TimeSpan.FromMilliseconds(50),
                AddressWait = TimeSpan.FromSeconds(10),
                ShutdownGrace = TimeSpan.FromSeconds(10),
            });
        _providers.Add(provider);
        return provider;
    }

    public static Dictionary<string, object?> Settings(string recovery = "EAGER_NEXT_REGION", int port = 8080, params string[] zones) => new()
    {
        ["infra"] = "aws",
        ["zones"] = zones.Length == 0 ? new List<object?> { "us-east-1a", "us-east-1b", "us-east-1c" } : [.. zones],
        ["instance_type"] = "r7a.large",
        ["image"] = "ami-0123456789abcdef0",
        ["port"] = (long)port,
        ["recovery"] = recovery,
    };

    public static ReplicaLaunchRequest Request(int replicaId, IReadOnlyDictionary<string, object?> settings, string service = "chat", IReadOnlyDictionary<string, string>? envs = null) => new()
    {
        Service = service,
        ReplicaId = replicaId,
        Tier = "spot",
        Spot = true,
        Command = "wf",
        Arguments = ["replica"],
        TierSettings = settings,
        Envs = envs ?? new Dictionary<string, string>(),
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
            provider.Dispose();
        await Api.DisposeAsync().AsTask().WaitAsync(Deadline);
        Home.Dispose();
    }
}
