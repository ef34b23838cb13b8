using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using WrinkleFree.Jobs.Checkpoints;
using WrinkleFree.Testing;

namespace WrinkleFree.Jobs.Tests.Checkpoints;

/// <summary>
/// A real Azurite blob service (npm) on a free loopback port, in memory, with one container, shared by the az:// tests.
/// Its launcher comes from WF_AZURITE (.ci/run sets it), else it is npm-installed into the shared test cache on first use.
/// </summary>
public sealed partial class AzuriteFixture : IAsyncLifetime
{
    public const string Account = "devstoreaccount1";

    public const string Container = "wf-checkpoints";

    // Azurite's fixed development account key, published in its documentation; it opens nothing but the local emulator.
    private const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly TempDirectory _data = new("wf-azurite");
    private ListeningProcess? _process;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var launcher = Environment.GetEnvironmentVariable("WF_AZURITE");
        if (string.IsNullOrEmpty(launcher) || !File.Exists(launcher))
        {
            var prefix = await NpmPackage.EnsureAsync("azurite", "azurite", "3.37.0", Path.Combine("node_modules", ".bin", "azurite-blob"));
            launcher = Path.Combine(prefix, "node_modules", ".bin", "azurite-blob");
        }

        // Port 0: Azurite binds a free port and prints it. --skipApiVersionCheck: the SDK may be newer than this Azurite.
        // In memory (which rules out --location); the temp working folder catches any debug file it writes.
        (_process, var listening) = await ListeningProcess.StartAsync(
            launcher, ["--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence", "--skipApiVersionCheck"], Listening(), _data.Path);
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={DevelopmentKey};BlobEndpoint=http://127.0.0.1:{listening.Groups[1].Value}/{Account};";
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await new BlobContainerClient(ConnectionString, Container).CreateIfNotExistsAsync(cancellationToken: timeout.Token);
    }

    public CheckpointStoreOptions Options(string prefix, CheckpointMode mode, int keepLastN, string? cache, List<string> log) => new()
    {
        Location = $"az://{Account}/{Container}/{prefix}",
        Mode = mode,
        KeepLastN = keepLastN,
        CacheDirectory = cache,
        AzureConnectionString = ConnectionString,
        RetryDelay = TimeSpan.FromMilliseconds(5),
        Log = line => { lock (log) { log.Add(line); } },
    };

    public Task DisposeAsync()
    {
        _process?.Dispose();
        _data.Dispose();
        return Task.CompletedTask;
    }

    [GeneratedRegex(@"listens on http://[^\s:]+:(\d+)")]
    private static partial Regex Listening();
}
