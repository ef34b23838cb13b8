using System.Diagnostics;
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
    private Process? _process;

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
        var info = new ProcessStartInfo(launcher) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _data.Path };
        foreach (var arg in new[] { "--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence", "--skipApiVersionCheck" })
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {launcher}");
        _ = _process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var line = await _process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException($"azurite exited (code {(_process.HasExited ? _process.ExitCode : -1)}) before it listened");
            if (Listening().Match(line) is { Success: true } match)
            {
                ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={DevelopmentKey};BlobEndpoint=http://127.0.0.1:{match.Groups[1].Value}/{Account};";
                break;
            }
        }

        _ = Task.Run(async () =>
        {
            while (await _process.StandardOutput.ReadLineAsync() is not null)
            {
            }
        });
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
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        _data.Dispose();
        return Task.CompletedTask;
    }

    [GeneratedRegex(@"listens on http://[^\s:]+:(\d+)")]
    private static partial Regex Listening();
}
