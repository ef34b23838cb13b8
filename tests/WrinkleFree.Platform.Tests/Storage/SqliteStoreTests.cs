using Microsoft.Data.Sqlite;
using WrinkleFree.Platform.Storage;

namespace WrinkleFree.Platform.Tests.Storage;

public sealed class SqliteStoreTests : IDisposable
{
    private static readonly StoreMigration CreateNotes = new(1, "notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL) STRICT;");
    private static readonly StoreMigration AddTags = new(2, "tags", "ALTER TABLE notes ADD COLUMN tag TEXT; CREATE TABLE tags (name TEXT PRIMARY KEY) STRICT;");

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "wf-platform-tests", Guid.NewGuid().ToString("N"));

    private string DbPath => Path.Combine(_dir, "sub", "store.db");

    [Fact]
    public async Task OpenAsync_NewFile_AppliesEveryMigrationAndCreatesOwnerOnlyFileAndFolder()
    {
        using var store = await SqliteStore.OpenAsync(DbPath, [CreateNotes, AddTags], TimeProvider.System, Timeout());

        Assert.Equal(2, store.SchemaVersion);
        Assert.Equal(0, store.MigratedFrom);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(DbPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(DbPath)!));
        var rows = await store.WriteAsync(async (tx, _) =>
        {
            await SqliteStore.ExecuteAsync(tx, "INSERT INTO notes (text, tag) VALUES ($t, $g)", Timeout(), ("$t", "hello"), ("$g", null));
            return await SqliteStore.QueryAsync(tx, "SELECT text, tag FROM notes", r => (r.GetString(0), SqliteStore.NullableString(r, "tag")), Timeout());
        }, Timeout());
        Assert.Equal([("hello", (string?)null)], rows);
    }

    [Fact]
    public async Task OpenAsync_OlderFile_AppliesOnlyTheNewStepsAndKeepsData()
    {
        using (var v1 = await SqliteStore.OpenAsync(DbPath, [CreateNotes], TimeProvider.System, Timeout()))
        {
            await v1.WriteAsync((tx, _) => SqliteStore.ExecuteAsync(tx, "INSERT INTO notes (text) VALUES ('kept')", Timeout()), Timeout());
        }

        using var v2 = await SqliteStore.OpenAsync(DbPath, [CreateNotes, AddTags], TimeProvider.System, Timeout());

        Assert.Equal(1, v2.MigratedFrom);
        Assert.Equal(2, v2.SchemaVersion);
        Assert.Equal("kept", await v2.ReadAsync(tx => SqliteStore.ScalarAsync(tx, "SELECT text FROM notes", Timeout()), Timeout()));
    }

    [Fact]
    public async Task OpenAsync_NewerFile_IsRefusedNamingBothVersions()
    {
        using (await SqliteStore.OpenAsync(DbPath, [CreateNotes, AddTags], TimeProvider.System, Timeout()))
        {
        }

        var e = await Assert.ThrowsAsync<StoreSchemaException>(() => SqliteStore.OpenAsync(DbPath, [CreateNotes], TimeProvider.System, Timeout()));

        Assert.Contains("schema version 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("(1)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_BodyThrows_NothingIsCommitted()
    {
        using var store = await SqliteStore.OpenAsync(DbPath, [CreateNotes], TimeProvider.System, Timeout());

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteAsync<int>(async (tx, _) =>
        {
            await SqliteStore.ExecuteAsync(tx, "INSERT INTO notes (text) VALUES ('lost')", Timeout());
            throw new InvalidOperationException("boom");
        }, Timeout()));

        Assert.Equal(0L, await store.ReadAsync(tx => SqliteStore.ScalarAsync(tx, "SELECT count(*) FROM notes", Timeout()), Timeout()));
        Assert.Equal("ok", await store.CheckIntegrityAsync(Timeout()));
    }

    [Fact]
    public async Task WriteAsync_PassesTheInjectedClockInUnixMilliseconds()
    {
        var time = new FixedTime(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123));
        using var store = await SqliteStore.OpenAsync(DbPath, [CreateNotes], time, Timeout());

        Assert.Equal(1_700_000_000_123, await store.WriteAsync((_, now) => Task.FromResult(now), Timeout()));
    }

    [Fact]
    public async Task OpenAsync_TwoProcessesWorthOfConcurrentOpens_MigrateOnce()
    {
        var opens = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SqliteStore.OpenAsync(DbPath, [CreateNotes, AddTags], TimeProvider.System, Timeout())));
        try
        {
            Assert.All(opens, s => Assert.Equal(2, s.SchemaVersion));
            Assert.Single(opens, s => s.MigratedFrom == 0);
        }
        finally
        {
            foreach (var s in opens)
            {
                s.Dispose();
            }
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
