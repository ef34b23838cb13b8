using WrinkleFree.Platform.Storage;
using WrinkleFree.Service.State;

namespace WrinkleFree.Service.Tests.State;

public sealed class StoreMigrationTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    // Test steps go on top of the shipped schema: the store's methods need its latest tables.
    private static readonly int Latest = StoreSchema.Migrations[^1].Version;
    private static readonly StoreMigration AddNote = new(Latest + 1, "test: a column and a table", """
        ALTER TABLE services ADD COLUMN note TEXT;
        CREATE TABLE test_extra (x INTEGER NOT NULL);
        INSERT INTO test_extra (x) SELECT count(*) FROM services;
        """);

    private readonly TempHome _home = new();

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task OpenAsync_FreshFile_AppliesEveryMigration()
    {
        using var store = await ServiceStore.OpenAsync(_home.StatePath, TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(StoreSchema.Migrations[^1].Version, store.SchemaVersion);
        Assert.Equal(store.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar("SELECT version FROM schema_version"));
        Assert.Equal("1", Scalar("SELECT count(*) FROM schema_version"));
        foreach (var table in new[] { "services", "versions", "replicas", "replica_ids", "service_events" })
        {
            Assert.Equal("1", Scalar($"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"));
        }
    }

    [Fact]
    public async Task OpenAsync_ExistingOlderFile_AppliesOnlyNewStepsAndKeepsData()
    {
        using (var older = await OpenAsync(StoreSchema.Migrations))
        {
            Assert.Equal(Latest, older.SchemaVersion);
            await older.CreateServiceAsync("kept", "spec", "READY", CancellationToken.None).WaitAsync(Deadline);
        }

        using var newer = await OpenAsync([.. StoreSchema.Migrations, AddNote]);

        Assert.Equal(Latest + 1, newer.SchemaVersion);
        Assert.Equal(Text(Latest + 1), Scalar("SELECT version FROM schema_version"));
        Assert.Equal("1", Scalar("SELECT x FROM test_extra"));
        Assert.Equal("spec", (await newer.GetServiceAsync("kept", CancellationToken.None).WaitAsync(Deadline))!.SpecYaml);

        // Opening again runs nothing twice (the ALTER would fail if it did).
        using var again = await OpenAsync([.. StoreSchema.Migrations, AddNote]);
        Assert.Equal("1", Scalar("SELECT count(*) FROM test_extra"));
    }

    [Fact]
    public async Task OpenAsync_FailingMigration_RollsBackEveryStep()
    {
        var broken = new StoreMigration(Latest + 2, "test: fails halfway", "CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;");
        using (await OpenAsync(StoreSchema.Migrations))
        {
        }

        await Assert.ThrowsAnyAsync<Microsoft.Data.Sqlite.SqliteException>(() => OpenAsync([.. StoreSchema.Migrations, AddNote, broken]));

        Assert.Equal(Text(Latest), Scalar("SELECT version FROM schema_version"));
        Assert.Equal("0", Scalar("SELECT count(*) FROM sqlite_master WHERE name IN ('half_done', 'test_extra')"));
        Assert.Equal("0", Scalar("SELECT count(*) FROM pragma_table_info('services') WHERE name = 'note'"));
    }

    [Fact]
    public async Task OpenAsync_FileFromNewerWf_RefusesNamingBothVersions()
    {
        using (await OpenAsync([.. StoreSchema.Migrations, AddNote]))
        {
        }

        var error = await Assert.ThrowsAsync<ServiceStoreException>(() => OpenAsync(StoreSchema.Migrations));

        Assert.Contains($"schema version {Latest + 1}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"({Latest})", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_Version1File_MovesEventsOfLiveServicesToServiceEvents()
    {
        using (await OpenAsync([StoreSchema.Migrations[0]]))
        {
        }
        // A version-1 file as the wf of that time wrote it: one live service and the log of one deleted before.
        Execute("""
            INSERT INTO services (name, spec_yaml, current_version, status, created_at, updated_at) VALUES ('live', 'x', 1, 'READY', 1000, 1000);
            INSERT INTO events (service, replica_id, time, kind, message) VALUES ('live', NULL, 1000, 'service_created', 'created');
            INSERT INTO events (service, replica_id, time, kind, message) VALUES ('gone', NULL, 1500, 'service_created', 'created');
            INSERT INTO events (service, replica_id, time, kind, message) VALUES ('live', 3, 2000, 'replica_status', 'STARTING -> READY');
            """);

        using var store = await OpenAsync(StoreSchema.Migrations);

        var events = await store.ListEventsAsync("live", 0, 10, CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal([(1L, "service_created", (int?)null), (3L, "replica_status", 3)], events.Select(e => (e.Id, e.Kind, e.ReplicaId)));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(2000), events[1].At);
        Assert.Empty(await store.ListEventsAsync("gone", 0, 10, CancellationToken.None).WaitAsync(Deadline));
        Assert.Equal("0", Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'events'"));
        var next = await store.AddEventAsync(new ServiceEvent { Service = "live", Kind = "custom", Message = "after" }, CancellationToken.None).WaitAsync(Deadline);
        Assert.True(next.Id > 3, $"id {next.Id} reuses a migrated one");
    }

    private Task<ServiceStore> OpenAsync(IReadOnlyList<StoreMigration> migrations) =>
        ServiceStore.OpenAsync(_home.StatePath, TimeProvider.System, null, migrations, CancellationToken.None).WaitAsync(Deadline);

    private string? Scalar(string sql) => ServiceStoreTests.SqliteScalar(_home.StatePath, sql);

    private void Execute(string sql)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_home.StatePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string Text(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
