using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.State;

namespace WrinkleFree.Service.Tests.State;

public sealed class ServiceStoreTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempHome _home = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task CreateServiceAsync_NewName_StoresServiceVersionOneAndEvent()
    {
        using var store = await OpenAsync();

        var created = await store.CreateServiceAsync("chat", "run: serve\n", "CONTROLLER_INIT", CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(new ServiceRecord
        {
            Name = "chat",
            SpecYaml = "run: serve\n",
            CurrentVersion = 1,
            Status = "CONTROLLER_INIT",
            CreatedAt = _time.GetUtcNow(),
            UpdatedAt = _time.GetUtcNow(),
        }, created);
        Assert.Equal(created, await store.GetServiceAsync("chat", CancellationToken.None).WaitAsync(Deadline));
        var version = Assert.Single(await store.ListVersionsAsync("chat", CancellationToken.None).WaitAsync(Deadline));
        Assert.Equal(new ServiceVersionRecord("chat", 1, "run: serve\n", _time.GetUtcNow()), version);
        var e = Assert.Single(await store.ListEventsAsync("chat", 0, 100, CancellationToken.None).WaitAsync(Deadline));
        Assert.Equal(ServiceEventKinds.ServiceCreated, e.Kind);
        Assert.Null(e.ReplicaId);
    }

    [Fact]
    public async Task CreateServiceAsync_DuplicateName_ThrowsAndChangesNothing()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("chat", "a", "READY", CancellationToken.None).WaitAsync(Deadline);

        var error = await Assert.ThrowsAsync<ServiceStoreException>(() => store.CreateServiceAsync("chat", "b", "READY", CancellationToken.None)).WaitAsync(Deadline);

        Assert.Contains("'chat' already exists", error.Message, StringComparison.Ordinal);
        Assert.Equal("a", (await store.GetServiceAsync("chat", CancellationToken.None).WaitAsync(Deadline))!.SpecYaml);
        Assert.Single(await store.ListEventsAsync("chat", 0, 100, CancellationToken.None).WaitAsync(Deadline));
    }

    [Fact]
    public async Task AddVersionAsync_ExistingService_BumpsCurrentVersionAndKeepsHistory()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("chat", "v1", "READY", CancellationToken.None).WaitAsync(Deadline);
        _time.Advance(TimeSpan.FromMinutes(1));

        var v2 = await store.AddVersionAsync("chat", "v2", CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(new ServiceVersionRecord("chat", 2, "v2", _time.GetUtcNow()), v2);
        var service = (await store.GetServiceAsync("chat", CancellationToken.None).WaitAsync(Deadline))!;
        Assert.Equal((2, "v2", _time.GetUtcNow()), (service.CurrentVersion, service.SpecYaml, service.UpdatedAt));
        Assert.Equal(["v1", "v2"], (await store.ListVersionsAsync("chat", CancellationToken.None).WaitAsync(Deadline)).Select(v => v.SpecYaml));
    }

    [Fact]
    public async Task AddVersionAsync_UnknownService_Throws()
    {
        using var store = await OpenAsync();

        var error = await Assert.ThrowsAsync<ServiceStoreException>(() => store.AddVersionAsync("nope", "v2", CancellationToken.None)).WaitAsync(Deadline);

        Assert.Contains("'nope'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateServiceAsync_StatusChange_WritesFieldsAndLogsTransition()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("chat", "v1", "CONTROLLER_INIT", CancellationToken.None).WaitAsync(Deadline);

        var updated = await store.UpdateServiceAsync("chat", "READY", "http://127.0.0.1:30001", 30001, CancellationToken.None).WaitAsync(Deadline);
        await store.UpdateServiceAsync("chat", "READY", "http://127.0.0.1:30001", 30001, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(("READY", "http://127.0.0.1:30001", (int?)30001), (updated.Status, updated.Endpoint, updated.Port));
        var events = await store.ListEventsAsync("chat", 0, 100, CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal([ServiceEventKinds.ServiceCreated, ServiceEventKinds.ServiceStatus], events.Select(e => e.Kind));
        Assert.Equal("CONTROLLER_INIT -> READY", events[1].Message);
    }

    [Fact]
    public async Task AddReplicaAsync_Several_AssignsIncreasingIdsPerService()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        await store.CreateServiceAsync("b", "x", "READY", CancellationToken.None).WaitAsync(Deadline);

        var a1 = await store.AddReplicaAsync(Replica("a", "base", 0), CancellationToken.None).WaitAsync(Deadline);
        var a2 = await store.AddReplicaAsync(Replica("a", "spot", 0.15), CancellationToken.None).WaitAsync(Deadline);
        var b1 = await store.AddReplicaAsync(Replica("b", "base", 0), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal((1, 2, 1), (a1.ReplicaId, a2.ReplicaId, b1.ReplicaId));
        Assert.Equal(new ReplicaRecord
        {
            Service = "a",
            ReplicaId = 2,
            Version = 1,
            Tier = "spot",
            Provider = "local",
            Status = "PROVISIONING",
            CostPerHour = 0.15,
            LaunchedAt = _time.GetUtcNow(),
        }, await store.GetReplicaAsync("a", 2, CancellationToken.None).WaitAsync(Deadline));
        Assert.Equal([1, 2], (await store.ListReplicasAsync("a", false, CancellationToken.None).WaitAsync(Deadline)).Select(r => r.ReplicaId));
        Assert.Equal(3, (await store.ListReplicasAsync(null, false, CancellationToken.None).WaitAsync(Deadline)).Count);
    }

    [Fact]
    public async Task AddReplicaAsync_ServiceDeletedAndRecreated_NeverReusesAnId()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        await store.AddReplicaAsync(Replica("a", "base", 0), CancellationToken.None).WaitAsync(Deadline);
        await store.AddReplicaAsync(Replica("a", "base", 0), CancellationToken.None).WaitAsync(Deadline);

        Assert.True(await store.DeleteServiceAsync("a", CancellationToken.None).WaitAsync(Deadline));
        Assert.Empty(await store.ListReplicasAsync("a", true, CancellationToken.None).WaitAsync(Deadline));
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        var next = await store.AddReplicaAsync(Replica("a", "base", 0), CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(3, next.ReplicaId);
        Assert.False(await store.DeleteServiceAsync("missing", CancellationToken.None).WaitAsync(Deadline));
    }

    [Fact]
    public async Task AddReplicaAsync_UnknownService_ThrowsAndAllocatesNothing()
    {
        using var store = await OpenAsync();

        await Assert.ThrowsAsync<ServiceStoreException>(() => store.AddReplicaAsync(Replica("ghost", "base", 0), CancellationToken.None)).WaitAsync(Deadline);
        await store.CreateServiceAsync("ghost", "x", "READY", CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(1, (await store.AddReplicaAsync(Replica("ghost", "base", 0), CancellationToken.None).WaitAsync(Deadline)).ReplicaId);
    }

    [Fact]
    public async Task UpdateReplicasAsync_StatusChanges_WritesFieldsAndOneEventPerChange()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        var r1 = await store.AddReplicaAsync(Replica("a", "base", 0), CancellationToken.None).WaitAsync(Deadline);
        var r2 = await store.AddReplicaAsync(Replica("a", "base", 0), CancellationToken.None).WaitAsync(Deadline);
        _time.Advance(TimeSpan.FromSeconds(30));

        var written = await store.UpdateReplicasAsync(
            [
                r1 with { Status = "READY", EndpointUrl = "http://127.0.0.1:4001", Handle = "{\"pid\":7}", ReadyAt = _time.GetUtcNow() },
                r2 with { EndpointUrl = "http://127.0.0.1:4002" },
            ],
            "probe ok",
            CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(r1 with { Status = "READY", EndpointUrl = "http://127.0.0.1:4001", Handle = "{\"pid\":7}", ReadyAt = _time.GetUtcNow() }, written[0]);
        Assert.Equal(written, await store.ListReplicasAsync("a", false, CancellationToken.None).WaitAsync(Deadline));
        var statusEvents = (await store.ListEventsAsync("a", 0, 100, CancellationToken.None).WaitAsync(Deadline)).Where(e => e.Kind == ServiceEventKinds.ReplicaStatus).ToList();
        var e = Assert.Single(statusEvents);
        Assert.Equal((1, "PROVISIONING -> READY: probe ok", _time.GetUtcNow()), (e.ReplicaId!.Value, e.Message, e.At));
    }

    [Fact]
    public async Task UpdateReplicasAsync_OneUnknownReplica_RollsBackTheWholeBatch()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        var r1 = await store.AddReplicaAsync(Replica("a", "base", 0), CancellationToken.None).WaitAsync(Deadline);
        var eventsBefore = await store.ListEventsAsync("a", 0, 100, CancellationToken.None).WaitAsync(Deadline);

        await Assert.ThrowsAsync<ServiceStoreException>(() => store.UpdateReplicasAsync(
            [r1 with { Status = "READY" }, r1 with { ReplicaId = 99, Status = "READY" }], null, CancellationToken.None)).WaitAsync(Deadline);

        Assert.Equal("PROVISIONING", (await store.GetReplicaAsync("a", 1, CancellationToken.None).WaitAsync(Deadline))!.Status);
        Assert.Equal(eventsBefore, await store.ListEventsAsync("a", 0, 100, CancellationToken.None).WaitAsync(Deadline));
    }

    [Fact]
    public async Task ListReplicasAsync_Terminated_HiddenUnlessAsked()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        var r1 = await store.AddReplicaAsync(Replica("a", "base", 0), CancellationToken.None).WaitAsync(Deadline);
        await store.AddReplicaAsync(Replica("a", "base", 0), CancellationToken.None).WaitAsync(Deadline);
        await store.UpdateReplicaAsync(r1 with { Status = "SHUTTING_DOWN", TerminatedAt = _time.GetUtcNow() }, "scaled down", CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal([2], (await store.ListReplicasAsync("a", false, CancellationToken.None).WaitAsync(Deadline)).Select(r => r.ReplicaId));
        var all = await store.ListReplicasAsync("a", true, CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal([1, 2], all.Select(r => r.ReplicaId));
        Assert.True(all[0].IsTerminated);
    }

    [Fact]
    public async Task ListEventsAsync_AfterIdAndLimit_PagesInCommitOrder()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        await store.CreateServiceAsync("b", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        for (var i = 0; i < 5; i++)
        {
            await store.AddEventAsync(Custom("a", $"m{i}", i), CancellationToken.None).WaitAsync(Deadline);
        }

        await store.AddEventAsync(Custom("b", "other service"), CancellationToken.None).WaitAsync(Deadline);

        var created = (await store.ListEventsAsync("a", 0, 1, CancellationToken.None).WaitAsync(Deadline)).Single();
        var first = await store.ListEventsAsync("a", created.Id, 2, CancellationToken.None).WaitAsync(Deadline);
        var rest = await store.ListEventsAsync("a", first[^1].Id, 100, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(ServiceEventKinds.ServiceCreated, created.Kind);
        Assert.Equal(["m0", "m1"], first.Select(e => e.Message));
        Assert.Equal(["m2", "m3", "m4"], rest.Select(e => e.Message));
        Assert.Equal([2, 3, 4], rest.Select(e => e.ReplicaId));
        Assert.True(rest.Zip(rest.Skip(1)).All(p => p.First.Id < p.Second.Id), "ids increase in commit order");
        Assert.Empty(await store.ListEventsAsync("a", rest[^1].Id, 100, CancellationToken.None).WaitAsync(Deadline));
    }

    [Fact]
    public async Task AddEventAsync_Event_StoresItsFieldsAndTheStoresTime()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        _time.Advance(TimeSpan.FromSeconds(7));
        var scaled = ServiceEvents.ScaleUp("a", 1, 3, "QPS 12.3 > 2 replicas × 5.0");

        var stored = await store.AddEventAsync(scaled, CancellationToken.None).WaitAsync(Deadline);
        var explicitTime = await store.AddEventAsync(Custom("a", "then") with { At = _time.GetUtcNow().AddHours(-1) }, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(scaled with { Id = stored.Id, At = _time.GetUtcNow() }, stored);
        var read = await store.ListEventsAsync("a", 0, 100, CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal([ServiceEventKinds.ServiceCreated, ServiceEventKinds.ScaleUp, "custom"], read.Select(e => e.Kind));
        Assert.Equal(stored, read[1]);
        Assert.Equal("1 → 3 replicas: QPS 12.3 > 2 replicas × 5.0", read[1].Message);
        Assert.Equal("""{"from":1,"to":3,"reason":"QPS 12.3 > 2 replicas × 5.0"}""", read[1].Details);
        Assert.Equal(_time.GetUtcNow().AddHours(-1), explicitTime.At);
    }

    [Fact]
    public async Task AddEventAsync_UnknownServiceOrDetailsNotAnObject_Throws()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);

        var unknown = await Assert.ThrowsAsync<ServiceStoreException>(() => store.AddEventAsync(Custom("nope", "m"), CancellationToken.None)).WaitAsync(Deadline);
        await Assert.ThrowsAsync<ArgumentException>(() => store.AddEventAsync(Custom("a", "m") with { Details = "[1]" }, CancellationToken.None)).WaitAsync(Deadline);
        await Assert.ThrowsAsync<ArgumentException>(() => store.AddEventAsync(Custom("a", "m") with { Details = "{" }, CancellationToken.None)).WaitAsync(Deadline);

        Assert.Contains("no service named 'nope'", unknown.Message, StringComparison.Ordinal);
        Assert.Single(await store.ListEventsAsync("a", 0, 100, CancellationToken.None).WaitAsync(Deadline));
    }

    [Fact]
    public async Task AddEventAsync_BeyondRetention_DropsThatServicesOldestOnly()
    {
        using var store = await OpenAsync();
        store.EventsKeptPerService = 3;
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        await store.CreateServiceAsync("b", "x", "READY", CancellationToken.None).WaitAsync(Deadline);

        for (var i = 0; i < 6; i++)
        {
            await store.AddEventAsync(Custom("a", $"m{i}"), CancellationToken.None).WaitAsync(Deadline);
        }

        Assert.Equal(["m3", "m4", "m5"], (await store.ListEventsAsync("a", 0, 100, CancellationToken.None).WaitAsync(Deadline)).Select(e => e.Message));
        Assert.Equal([ServiceEventKinds.ServiceCreated], (await store.ListEventsAsync("b", 0, 100, CancellationToken.None).WaitAsync(Deadline)).Select(e => e.Kind));
    }

    [Fact]
    public async Task ListLatestEventsAsync_Limit_ReturnsTheNewestOldestFirst()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        await store.CreateServiceAsync("b", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        for (var i = 0; i < 4; i++)
        {
            await store.AddEventAsync(Custom(i % 2 == 0 ? "a" : "b", $"m{i}"), CancellationToken.None).WaitAsync(Deadline);
        }

        Assert.Equal(["m0", "m2"], (await store.ListLatestEventsAsync("a", 2, CancellationToken.None).WaitAsync(Deadline)).Select(e => e.Message));
        Assert.Equal(["m1", "m2", "m3"], (await store.ListLatestEventsAsync(null, 3, CancellationToken.None).WaitAsync(Deadline)).Select(e => e.Message));
    }

    [Fact]
    public async Task DeleteServiceAsync_DeletesItsEventsOnly()
    {
        using var store = await OpenAsync();
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        await store.CreateServiceAsync("b", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        await store.AddEventAsync(Custom("a", "m"), CancellationToken.None).WaitAsync(Deadline);

        await store.DeleteServiceAsync("a", CancellationToken.None).WaitAsync(Deadline);

        Assert.Null(await store.GetServiceAsync("a", CancellationToken.None).WaitAsync(Deadline));
        Assert.Empty(await store.ListVersionsAsync("a", CancellationToken.None).WaitAsync(Deadline));
        Assert.Empty(await store.ListEventsAsync("a", 0, 100, CancellationToken.None).WaitAsync(Deadline));
        Assert.Single(await store.ListEventsAsync("b", 0, 100, CancellationToken.None).WaitAsync(Deadline));

        // Re-created, it starts a fresh log.
        await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal([ServiceEventKinds.ServiceCreated], (await store.ListEventsAsync("a", 0, 100, CancellationToken.None).WaitAsync(Deadline)).Select(e => e.Kind));
    }

    [Fact]
    public async Task OpenAsync_ExistingFile_KeepsDataAndUsesWal()
    {
        using (var store = await OpenAsync())
        {
            await store.CreateServiceAsync("a", "x", "READY", CancellationToken.None).WaitAsync(Deadline);
        }

        using var reopened = await OpenAsync();

        Assert.Equal(StoreSchema.Migrations[^1].Version, reopened.SchemaVersion);
        Assert.NotNull(await reopened.GetServiceAsync("a", CancellationToken.None).WaitAsync(Deadline));
        Assert.Equal("ok", await reopened.CheckIntegrityAsync(CancellationToken.None).WaitAsync(Deadline));
        Assert.Equal("wal", SqliteScalar(_home.StatePath, "PRAGMA journal_mode"));
    }

    [Fact]
    public async Task Methods_CancelledToken_ThrowWithoutWriting()
    {
        using var store = await OpenAsync();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.CreateServiceAsync("a", "x", "READY", cts.Token)).WaitAsync(Deadline);

        Assert.Empty(await store.ListServicesAsync(CancellationToken.None).WaitAsync(Deadline));
    }

    internal static string? SqliteScalar(string path, string sql)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static NewReplica Replica(string service, string tier, double cost) => new()
    {
        Service = service,
        Version = 1,
        Tier = tier,
        Provider = "local",
        Status = "PROVISIONING",
        CostPerHour = cost,
    };

    private static ServiceEvent Custom(string service, string message, int? replicaId = null) =>
        new() { Service = service, Kind = "custom", Message = message, ReplicaId = replicaId };

    private Task<ServiceStore> OpenAsync() => ServiceStore.OpenAsync(_home.StatePath, _time, null, CancellationToken.None).WaitAsync(Deadline);
}
