using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Spec;
using WrinkleFree.Service.State;
using WrinkleFree.Service.Status;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Status;

/// <summary>data.json from snapshots, tiers and a real store: tier bands in fill order, failures, events newest first.</summary>
public sealed class StatusDataBuilderTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempHome _home = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 2, 3, 0, 0, TimeSpan.Zero));

    public void Dispose() => _home.Dispose();

    private static TierSpec Tier(string name, double cost, int capacity = TierSpec.UnlimitedCapacity) =>
        new() { Name = name, Provider = TierProvider.Local, CostPerHour = cost, Capacity = capacity };

    private ReplicaSnapshot Replica(int id, string tier, ReplicaStatus status) =>
        new(id, tier, status, $"http://127.0.0.1:{9000 + id}", 0, 100 + id, 1, _time.GetUtcNow().AddMinutes(-id));

    [Fact]
    public void Tiers_DeclaredOutOfCostOrder_BandsCheapestFirstWithUsedAndReady()
    {
        TierSpec[] tiers = [Tier("cloud", 2.5), Tier("base", 0, 1), Tier("spot", 0.4, 2)];
        ReplicaSnapshot[] replicas =
        [
            Replica(1, "base", ReplicaStatus.Ready), Replica(2, "spot", ReplicaStatus.Ready), Replica(3, "spot", ReplicaStatus.Starting),
            Replica(4, "cloud", ReplicaStatus.Failed), Replica(5, "old", ReplicaStatus.ShuttingDown),
        ];

        var bands = StatusDataBuilder.Tiers(tiers, replicas);

        Assert.Equal(["base", "spot", "cloud", "old"], bands.Select(b => b.Name));
        Assert.Equal([(1, 1, (int?)1), (2, 1, 2), (0, 0, null), (1, 0, null)], bands.Select(b => (b.Used, b.Ready, b.Capacity)));
        Assert.Equal([true, true, true, false], bands.Select(b => b.InSpec));
    }

    [Fact]
    public async Task BuildAsync_ServiceWithFailure_CarriesLastFailureHistoryAndEventsNewestFirst()
    {
        using var store = await ServiceStore.OpenAsync(_home.StatePath, _time, null, CancellationToken.None).WaitAsync(Deadline);
        await store.CreateServiceAsync("svc", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        await store.AddEventAsync(ServiceEvents.ReplicaFailed("svc", 2, "exit code 1"), CancellationToken.None).WaitAsync(Deadline);
        await store.AddEventAsync(ServiceEvents.ReplicaFailed("svc", 2, "exit code 3: model file /m.gguf does not exist"), CancellationToken.None).WaitAsync(Deadline);
        var history = new ServiceHistory(_time);
        var snapshot = new ServiceSnapshot("svc", 1, "READY", new Uri("http://127.0.0.1:8000/"), 2, 1.5,
            [Replica(1, "base", ReplicaStatus.Ready), Replica(2, "base", ReplicaStatus.Failed)]);
        history.Record([snapshot]);
        _time.Advance(TimeSpan.FromSeconds(10));

        var data = await StatusDataBuilder.BuildAsync([(snapshot, [Tier("base", 0, 2)])], store, history, _time, CancellationToken.None).WaitAsync(Deadline);

        var service = Assert.Single(data.Services);
        Assert.Equal("http://127.0.0.1:8000", service.Endpoint);
        Assert.Equal([null, "replica 2 failed: exit code 3: model file /m.gguf does not exist"], service.Replicas.Select(r => r.LastFailure));
        Assert.Equal([70.0, 130.0], service.Replicas.Select(r => r.AgeSeconds));
        Assert.Equal([_time.GetUtcNow().AddSeconds(-10), _time.GetUtcNow()], service.History.Select(h => h.At));
        Assert.Equal([ServiceEventKinds.ReplicaFailed, ServiceEventKinds.ReplicaFailed, ServiceEventKinds.ServiceCreated], data.Events.Select(e => e.Kind));
        Assert.Equal(3600, data.HistorySeconds);
    }
}
