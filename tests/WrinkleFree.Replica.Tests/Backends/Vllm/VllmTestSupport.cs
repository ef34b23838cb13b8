using WrinkleFree.FakeUpstream;
using WrinkleFree.Replica.Backends;
using WrinkleFree.Replica.Backends.Vllm;

namespace WrinkleFree.Replica.Tests.Backends.Vllm;

/// <summary>Deadlines and small helpers shared by the vllm backend tests.</summary>
internal static class VllmTestSupport
{
    /// <summary>Generous: the machine running the tests is shared and a child dotnet process takes seconds to start.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>Fast polling so state changes happen within the test's patience, not production's.</summary>
    public static VllmBackendOptions FastOptions(Uri? url = null, string? command = null) => new()
    {
        UpstreamUrl = url,
        UpstreamCommand = command,
        HealthInterval = TimeSpan.FromMilliseconds(100),
        HealthTimeout = TimeSpan.FromSeconds(5),
        UnhealthyThreshold = 2,
        StartupTimeout = Deadline,
        RestartBackoff = TimeSpan.FromMilliseconds(100),
        RestartBackoffMax = TimeSpan.FromSeconds(1),
        RequestTimeout = TimeSpan.FromSeconds(30),
        StopGracePeriod = TimeSpan.FromSeconds(5),
    };

    public static async Task<VllmBackend> StartReadyAsync(VllmBackendOptions options)
    {
        var backend = new VllmBackend(options);
        await backend.StartAsync(CancellationToken.None).WaitAsync(Deadline);
        await backend.WaitForStateAsync(BackendState.Ready, CancellationToken.None).WaitAsync(Deadline);
        return backend;
    }

    public static Task<FakeUpstreamServer> StartFakeAsync(FakeUpstreamOptions? options = null) =>
        FakeUpstreamServer.StartAsync(options ?? new FakeUpstreamOptions()).WaitAsync(Deadline);

    public static async Task<List<GenerationEvent>> CollectAsync(IAsyncEnumerable<GenerationEvent> events)
    {
        using var cts = new CancellationTokenSource(Deadline);
        var list = new List<GenerationEvent>();
        await foreach (var e in events.WithCancellation(cts.Token))
        {
            list.Add(e);
        }

        return list;
    }
}
