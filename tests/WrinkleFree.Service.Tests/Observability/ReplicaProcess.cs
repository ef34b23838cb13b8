using System.Diagnostics;
using System.Text;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Platform.Processes;
using WrinkleFree.Service.Tests.Integration;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Observability;

/// <summary>
/// A real `wf replica` over the tiny synthetic model, launched as the local provider launches one: detached in its own
/// session, stdout and stderr appended to a log file. Killed (the whole group) on dispose.
/// </summary>
internal sealed class ReplicaProcess : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private const string ListeningPrefix = "listening on ";

    private static readonly Lazy<string> TinyModel = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), "wf-serve-tests", $"tiny-{Environment.ProcessId}.gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SyntheticModel.Write(path, SyntheticShape.Tiny, GgmlType.TQ2_0, seed: 1);
        return path;
    });

    private ReplicaProcess(int pid, string logPath, Uri address)
    {
        Pid = pid;
        LogPath = logPath;
        Address = address;
    }

    /// <summary>The tiny synthetic model (TQ2_0), written once per test process.</summary>
    public static string ModelPath => TinyModel.Value;

    public int Pid { get; }

    public string LogPath { get; }

    /// <summary>The replica's base URL (http://127.0.0.1:PORT/).</summary>
    public Uri Address { get; }

    /// <summary>host:port, as a file_sd target names it.</summary>
    public string HostPort => $"{Address.Host}:{Address.Port}";

    /// <summary>Starts `wf replica` on a free loopback port with <paramref name="args"/> added and waits until it prints "ready".</summary>
    public static async Task<ReplicaProcess> StartAsync(string logPath, IEnumerable<string>? args = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        List<string> command = [ChildProcessEntry.Dotnet, WfCli.Dll, "replica", "--host", "127.0.0.1", "--port", "0", "--model-id", "tiny", "--threads", "1", "--peak-bandwidth", "10"];
        command.AddRange(args ?? []);
        var env = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["MODEL_PATH"] = ModelPath, ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" };
        int pid;
        using (var process = SessionProcess.Start(command, logPath, environment: env, name: "wf-replica"))
        {
            pid = process.Id;
        }

        var replica = new ReplicaProcess(pid, logPath, new Uri("http://127.0.0.1/"));
        try
        {
            var deadline = DateTime.UtcNow + Deadline;
            while (true)
            {
                var lines = await replica.ReadLogAsync();
                var listening = lines.FirstOrDefault(l => l.StartsWith(ListeningPrefix, StringComparison.Ordinal));
                if (listening is not null && lines.Contains("ready"))
                {
                    return new ReplicaProcess(pid, logPath, new Uri(listening[ListeningPrefix.Length..].Trim() + "/"));
                }

                if (!LinuxProcess.GroupAlive(pid) || DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"wf replica did not get ready (pid {pid}):\n{string.Join('\n', lines)}");
                }

                await Task.Delay(100);
            }
        }
        catch
        {
            await replica.DisposeAsync();
            throw;
        }
    }

    /// <summary>A service spec whose one replica (tier base) is `wf replica` over the tiny model, probed every second.</summary>
    public static string ServiceSpec() => $"""
        service:
          readiness_probe:
            path: /health
            initial_delay_seconds: 60
            latency_threshold_ms: 5000
            endpoint_probe_interval_seconds: 1
          replica_policy:
            min_replicas: 1
            max_replicas: 1
        envs:
          MODEL_PATH: {System.Text.Json.JsonSerializer.Serialize(ModelPath)}
        run: |
          exec wf replica --model-id tiny --threads 1 --peak-bandwidth 10
        tiers:
          - name: base
            provider: local
            capacity: 1
            cost_per_hour: 0
        """;

    /// <summary>The log file's lines now (shared read: the replica keeps writing).</summary>
    public async Task<string[]> ReadLogAsync()
    {
        if (!File.Exists(LogPath))
        {
            return [];
        }

        await using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>POSTs a small completion (4 tokens); returns the response for the caller to inspect and dispose.</summary>
    public static async Task<HttpResponseMessage> CompleteAsync(HttpClient client, Uri baseUrl, string? requestId = null, int maxTokens = 4)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "v1/completions"))
        {
            Content = new StringContent($$"""{"prompt": "Once upon a time", "max_tokens": {{maxTokens}}}""", Encoding.UTF8, "application/json"),
        };
        if (requestId is not null)
        {
            request.Headers.Add("X-Request-Id", requestId);
        }

        return await client.SendAsync(request).WaitAsync(Deadline);
    }

    public async ValueTask DisposeAsync()
    {
        LinuxProcess.SignalGroup(Pid, LinuxProcess.Sigkill);
        await ProcessGroup.WaitGoneAsync(Pid, Deadline, TimeSpan.FromMilliseconds(50), TimeProvider.System, CancellationToken.None);
    }
}
