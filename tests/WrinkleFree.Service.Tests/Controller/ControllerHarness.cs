using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.State;
using WrinkleFree.Service.Tests.Providers;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Controller;

/// <summary>A real store, a real local provider and fake-upstream replica processes for <see cref="ServiceController"/> tests.</summary>
internal sealed class ControllerHarness : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly TempHome _home;
    private readonly HashSet<int> _pids = [];

    private ControllerHarness(TempHome home, ServiceStore store)
    {
        _home = home;
        Store = store;
        Providers = new Dictionary<string, IReplicaProvider> { [ProviderNames.Local] = ProviderTestSupport.Create(home.Path) };
    }

    public ServiceStore Store { get; }

    public IReadOnlyDictionary<string, IReplicaProvider> Providers { get; }

    /// <summary>Two local tiers: "base" (1 replica, free) and "spill" (2 replicas, $1/h); fake-upstream replicas.</summary>
    public static string SpecYaml(int minReplicas, int? maxReplicas = null) => $"""
        service:
          readiness_probe:
            path: /health
            initial_delay_seconds: 60
            latency_threshold_ms: 5000
          replica_policy:
            min_replicas: {minReplicas}
            max_replicas: {maxReplicas ?? minReplicas}
        {(maxReplicas is { } max && max != minReplicas ? "    target_qps_per_replica: 100\n" : "")}
        run: |
          {ProviderTestSupport.FakeRun()}
        tiers:
          - name: base
            provider: local
            capacity: 1
            cost_per_hour: 0
          - name: spill
            provider: local
            capacity: 2
            cost_per_hour: 1
        """;

    /// <summary>A fresh home and store holding service <paramref name="name"/> with <paramref name="spec"/>.</summary>
    public static async Task<ControllerHarness> CreateAsync(string name, string spec)
    {
        var home = new TempHome();
        var store = await ServiceStore.OpenAsync(home.StatePath, TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);
        await store.CreateServiceAsync(name, spec, "CONTROLLER_INIT", CancellationToken.None).WaitAsync(Deadline);
        return new ControllerHarness(home, store);
    }

    /// <summary>Starts the controller; without <paramref name="options"/> it ticks every 200 ms and drains for at most 5 s.</summary>
    public Task<ServiceController> StartControllerAsync(string name, ServiceControllerOptions? options = null) =>
        ServiceController.StartAsync(name, Store, Providers, options ?? new ServiceControllerOptions { TickInterval = TimeSpan.FromMilliseconds(200), DrainTimeout = TimeSpan.FromSeconds(5) },
            TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);

    /// <summary>
    /// Waits until the controller's snapshot satisfies <paramref name="condition"/>; <paramref name="each"/> sees every
    /// snapshot polled on the way (to check an invariant throughout).
    /// </summary>
    public async Task<ServiceSnapshot> WaitForAsync(
        ServiceController controller, Func<ServiceSnapshot, bool> condition, string what, Action<ServiceSnapshot>? each = null, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? Deadline);
        while (true)
        {
            var snapshot = controller.Snapshot;
            foreach (var r in snapshot.Replicas)
            {
                if (r.Pid is { } pid)
                    _pids.Add(pid);
            }
            each?.Invoke(snapshot);
            if (condition(snapshot))
                return snapshot;
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; last: {string.Join(", ", snapshot.Replicas)}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pid in _pids)
        {
            if (ProviderTestSupport.IsAlive(pid))
            {
                try
                {
                    System.Diagnostics.Process.GetProcessById(pid).Kill(entireProcessTree: true);
                }
                catch (ArgumentException)
                {
                    // Exited in between.
                }
            }
        }
        Store.Dispose();
        _home.Dispose();
        await Task.CompletedTask;
    }
}
