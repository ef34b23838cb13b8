using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Cost;
using WrinkleFree.Service.State;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Cost;

/// <summary>Replica-hours, dollars and tokens as the store adds them up, on a fake clock.</summary>
public sealed class ServiceStoreCostTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset Start = new(2026, 1, 2, 0, 0, 0, TimeSpan.Zero);
    private readonly TempHome _home = new();
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task CostAsync_ReplicasOnTwoTiers_AddsUpHoursDollarsAndTokens()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("chat", "run: x", "READY", CancellationToken.None).WaitAsync(Deadline);
        var free = await AddAsync(store, "chat", "onprem", "ssh", 0);
        var spot = await AddAsync(store, "chat", "spot", "cloud", 0.5);
        await store.RecordTokenCountersAsync([new("chat", free.ReplicaId, 1000, 300), new("chat", spot.ReplicaId, 10, 1)], CancellationToken.None).WaitAsync(Deadline);
        _time.Advance(TimeSpan.FromHours(2));
        await store.RecordTokenCountersAsync([new("chat", free.ReplicaId, 1500, 400), new("chat", spot.ReplicaId, 2010, 101)], CancellationToken.None).WaitAsync(Deadline);
        await TerminateAsync(store, spot);
        _time.Advance(TimeSpan.FromHours(1));

        var report = await store.CostAsync(null, Start, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(Start, report.Since);
        Assert.Equal(Start.AddHours(3), report.Until);
        var onprem = Assert.Single(report.Lines, l => l.Tier == "onprem");
        Assert.Equal(3, onprem.ReplicaHours, 6);
        Assert.Equal(0, onprem.Dollars);
        Assert.Equal(1500, onprem.GeneratedTokens);
        Assert.Equal(400, onprem.PromptTokens);
        var cloud = Assert.Single(report.Lines, l => l.Tier == "spot");
        Assert.Equal("cloud", cloud.Provider);
        Assert.Equal(2, cloud.ReplicaHours, 6);
        Assert.Equal(1, cloud.Dollars, 6);
        Assert.Equal(2010, cloud.GeneratedTokens);
        Assert.Equal(1 * 1_000_000 / 2010.0, cloud.DollarsPerMillionTokens!.Value, 6);
        Assert.Equal(5, report.Total.ReplicaHours, 6);
        Assert.Equal(3510, report.Total.GeneratedTokens);
        Assert.Equal(2, report.Total.Replicas);
        Assert.Equal("chat", Assert.Single(report.Services).Service);
    }

    [Fact]
    public async Task CostAsync_WindowStartsLater_ClipsHoursAndCountsOnlyLaterBuckets()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("chat", "run: x", "READY", CancellationToken.None).WaitAsync(Deadline);
        var r = await AddAsync(store, "chat", "paid", "local", 2);
        await store.RecordTokenCountersAsync([new("chat", r.ReplicaId, 700, 0)], CancellationToken.None).WaitAsync(Deadline);
        _time.Advance(TimeSpan.FromHours(10));
        await store.RecordTokenCountersAsync([new("chat", r.ReplicaId, 1000, 0)], CancellationToken.None).WaitAsync(Deadline);

        var report = await store.CostAsync("chat", Start.AddHours(9), CancellationToken.None).WaitAsync(Deadline);

        var line = Assert.Single(report.Lines);
        Assert.Equal(1, line.ReplicaHours, 6);
        Assert.Equal(2, line.Dollars, 6);
        Assert.Equal(300, line.GeneratedTokens);
    }

    [Fact]
    public async Task RecordTokenCountersAsync_CounterGoesBack_CountsTheRestartedProcessFromZero()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("chat", "run: x", "READY", CancellationToken.None).WaitAsync(Deadline);
        var r = await AddAsync(store, "chat", "base", "local", 0);

        await store.RecordTokenCountersAsync([new("chat", r.ReplicaId, 500, 50)], CancellationToken.None).WaitAsync(Deadline);
        await store.RecordTokenCountersAsync([new("chat", r.ReplicaId, 500, 50)], CancellationToken.None).WaitAsync(Deadline);
        await store.RecordTokenCountersAsync([new("chat", r.ReplicaId, 20, 5)], CancellationToken.None).WaitAsync(Deadline);
        await store.RecordTokenCountersAsync([new("chat", 99, 1_000_000, 0)], CancellationToken.None).WaitAsync(Deadline);

        var line = Assert.Single((await store.CostAsync("chat", Start, CancellationToken.None).WaitAsync(Deadline)).Lines);
        Assert.Equal(520, line.GeneratedTokens);
        Assert.Equal(55, line.PromptTokens);
    }

    [Fact]
    public async Task CostAsync_ServiceDeleted_KeepsItsHistoryAndStopsItsClock()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("old", "run: x", "READY", CancellationToken.None).WaitAsync(Deadline);
        var r = await AddAsync(store, "old", "paid", "local", 1);
        await store.RecordTokenCountersAsync([new("old", r.ReplicaId, 42, 0)], CancellationToken.None).WaitAsync(Deadline);
        _time.Advance(TimeSpan.FromHours(1));

        Assert.True(await store.DeleteServiceAsync("old", CancellationToken.None).WaitAsync(Deadline));
        _time.Advance(TimeSpan.FromHours(5));

        Assert.True(await store.HasCostHistoryAsync("old", CancellationToken.None).WaitAsync(Deadline));
        Assert.False(await store.HasCostHistoryAsync("never", CancellationToken.None).WaitAsync(Deadline));
        var line = Assert.Single((await store.CostAsync("old", Start, CancellationToken.None).WaitAsync(Deadline)).Lines);
        Assert.Equal(1, line.ReplicaHours, 6);
        Assert.Equal(1, line.Dollars, 6);
        Assert.Equal(42, line.GeneratedTokens);
    }

    [Fact]
    public async Task CostAsync_NothingRan_IsEmptyWithZeroTotal()
    {
        using var store = await OpenAsync();

        var report = await store.CostAsync(null, Start.AddDays(-1), CancellationToken.None).WaitAsync(Deadline);

        Assert.Empty(report.Lines);
        Assert.Equal(0, report.Total.Dollars);
        Assert.Null(report.Total.DollarsPerMillionTokens);
    }

    private Task<ServiceStore> OpenAsync() => ServiceStore.OpenAsync(_home.StatePath, _time, null, CancellationToken.None).WaitAsync(Deadline);

    private static Task<ReplicaRecord> AddAsync(ServiceStore store, string service, string tier, string provider, double cost) =>
        store.AddReplicaAsync(new NewReplica { Service = service, Version = 1, Tier = tier, Provider = provider, Status = "PROVISIONING", CostPerHour = cost }, CancellationToken.None)
            .WaitAsync(Deadline);

    private async Task TerminateAsync(ServiceStore store, ReplicaRecord replica) =>
        await store.UpdateReplicaAsync(replica with { Status = "SHUTTING_DOWN", TerminatedAt = _time.GetUtcNow() }, null, CancellationToken.None).WaitAsync(Deadline);
}
