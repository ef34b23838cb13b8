using WrinkleFree.Providers.Cloud.Compute;
using WrinkleFree.Providers.Cloud.Gcp;
using WrinkleFree.Testing.Cloud;

namespace WrinkleFree.Providers.Cloud.Tests.Gcp;

/// <summary>A <see cref="GceApiTestDouble"/> and the real <see cref="GceCompute"/> pointed at it, as the endpoint override does.</summary>
internal sealed class GceHarness : IAsyncDisposable
{
    public const string Token = "ya29.wf-test-token";

    /// <summary>Bound on every await of a test.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http = new();
    private readonly CancellationTokenSource _cancel = new(Timeout);

    private GceHarness(GceApiTestDouble api)
    {
        Api = api;
        Compute = new GceCompute(_http, new GceConnection(api.Url, new GceFixedTokenSource(Token)), api.Project, TimeProvider.System,
            new GceOptions { PollInterval = TimeSpan.FromMilliseconds(5), RetryDelay = TimeSpan.FromMilliseconds(5) });
    }

    public GceApiTestDouble Api { get; }

    public GceCompute Compute { get; }

    public CancellationToken Cancel => _cancel.Token;

    public static async Task<GceHarness> StartAsync()
    {
        var api = await GceApiTestDouble.StartAsync().WaitAsync(Timeout);
        api.RequiredToken = Token;
        return new GceHarness(api);
    }

    public static CloudLaunch Launch(string name, string zone = "us-central1-a", bool spot = true, string? token = null, IReadOnlyDictionary<string, string>? tags = null) => new()
    {
        Region = zone[..zone.LastIndexOf('-')],
        Zone = zone,
        Name = name,
        InstanceType = "n2-standard-8",
        Image = "projects/debian-cloud/global/images/family/debian-12",
        Spot = spot,
        UserData = "#cloud-config\nruncmd:\n  - [systemctl, start, wf-replica]\n",
        Tags = tags ?? new Dictionary<string, string> { ["wf-service"] = "chat", ["wf-replica"] = name, ["wf-version"] = "3", ["wf-tier"] = "spot" },
        ClientToken = token ?? name + "-" + zone,
    };

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync().AsTask().WaitAsync(Timeout);
        _http.Dispose();
        _cancel.Dispose();
    }
}
