using WrinkleFree.Platform.Storage;
using WrinkleFree.Service.State;

namespace WrinkleFree.Service.Tests.State;

public sealed class StoreMigrationTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly StoreMigration AddNote = new(2, "test: a column and a table", """
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
        foreach (var table in new[] { "services", "versions", "replicas", "replica_ids", "events" })
        {
            Assert.Equal("1", Scalar($"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"));
        }
    }

    [Fact]
    public async Task OpenAsync_ExistingOlderFile_AppliesOnlyNewStepsAndKeepsData()
    {
        using (var v1 = await OpenAsync([StoreSchema.Migrations[0]]))
        {
            Assert.Equal(1, v1.SchemaVersion);
            await v1.CreateServiceAsync("kept", "spec", "READY", CancellationToken.None).WaitAsync(Deadline);
        }

        using var v2 = await OpenAsync([StoreSchema.Migrations[0], AddNote]);

        Assert.Equal(2, v2.SchemaVersion);
        Assert.Equal("2", Scalar("SELECT version FROM schema_version"));
        Assert.Equal("1", Scalar("SELECT x FROM test_extra"));
        Assert.Equal("spec", (await v2.GetServiceAsync("kept", CancellationToken.None).WaitAsync(Deadline))!.SpecYaml);

        // Opening again runs nothing twice (the ALTER would fail if it did).
        using var again = await OpenAsync([StoreSchema.Migrations[0], AddNote]);
        Assert.Equal("1", Scalar("SELECT count(*) FROM test_extra"));
    }

    [Fact]
    public async Task OpenAsync_FailingMigration_RollsBackEveryStep()
    {
        var broken = new StoreMigration(3, "test: fails halfway", "CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;");
        using (await OpenAsync([StoreSchema.Migrations[0]]))
        {
        }

        await Assert.ThrowsAnyAsync<Microsoft.Data.Sqlite.SqliteException>(() => OpenAsync([StoreSchema.Migrations[0], AddNote, broken]));

        Assert.Equal("1", Scalar("SELECT version FROM schema_version"));
        Assert.Equal("0", Scalar("SELECT count(*) FROM sqlite_master WHERE name IN ('half_done', 'test_extra')"));
        Assert.Equal("0", Scalar("SELECT count(*) FROM pragma_table_info('services') WHERE name = 'note'"));
    }

    [Fact]
    public async Task OpenAsync_FileFromNewerWf_RefusesNamingBothVersions()
    {
        using (await OpenAsync([StoreSchema.Migrations[0], AddNote]))
        {
        }

        var error = await Assert.ThrowsAsync<ServiceStoreException>(() => OpenAsync([StoreSchema.Migrations[0]]));

        Assert.Contains("schema version 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("(1)", error.Message, StringComparison.Ordinal);
    }

    private Task<ServiceStore> OpenAsync(IReadOnlyList<StoreMigration> migrations) =>
        ServiceStore.OpenAsync(_home.StatePath, TimeProvider.System, null, migrations, CancellationToken.None).WaitAsync(Deadline);

    private string? Scalar(string sql) => ServiceStoreTests.SqliteScalar(_home.StatePath, sql);
}
