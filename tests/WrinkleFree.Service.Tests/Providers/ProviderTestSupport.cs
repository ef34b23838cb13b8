using System.Net.Http.Json;
using System.Text.Json;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Providers;

/// <summary>Shared pieces of the provider tests: the fake upstream as a replica command, health waits, liveness.</summary>
internal static class ProviderTestSupport
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static string FakeDll { get; } = Path.Combine(AppContext.BaseDirectory, "WrinkleFree.FakeUpstream.dll");

    /// <summary>A <c>run</c> script that starts the fake upstream on the provider's $PORT.</summary>
    public static string FakeRun(string prefix = "exec ") => $"{prefix}'{ChildProcessEntry.Dotnet}' '{FakeDll}' --port \"$PORT\"";

    public static IReplicaProvider Create(string home) =>
        ReplicaProviders.CreateLocal(new LocalProviderOptions { Home = home }, TimeProvider.System, null);

    public static ReplicaLaunchRequest Request(string run, int replicaId = 1, IReadOnlyDictionary<string, string>? envs = null) => new()
    {
        Service = "svc",
        ReplicaId = replicaId,
        Tier = "base",
        Run = run,
        Envs = envs ?? new Dictionary<string, string>(),
    };

    /// <summary>Polls /health until it answers 200; returns the replica server's pid from the body.</summary>
    public static async Task<int> WaitHealthyAsync(string endpoint)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            try
            {
                using var health = await http.GetFromJsonAsync<JsonDocument>(endpoint + "/health");
                return health!.RootElement.GetProperty("pid").GetInt32();
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Waits for a condition with a deadline (an await, not a sleep-poll without end).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(50);
        }
    }

    public static bool IsAlive(int pid) =>
        File.Exists($"/proc/{pid}/stat") && File.ReadAllText($"/proc/{pid}/stat") is var stat && stat[(stat.LastIndexOf(')') + 2)] is not ('Z' or 'X');

    public static async Task<List<string>> CollectAsync(IAsyncEnumerable<string> lines)
    {
        var list = new List<string>();
        await foreach (var line in lines)
        {
            list.Add(line);
        }

        return list;
    }
}
