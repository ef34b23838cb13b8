using Microsoft.Data.Sqlite;
using WrinkleFree.Platform.Home;

namespace WrinkleFree.Platform.Storage;

/// <summary>
/// One SQLite file with versioned migrations, shared by the service state and the managed-job state: WAL (readers such as
/// <c>wf status</c> never block a controller's writes), synchronous FULL (a commit survives power loss), writers that take
/// the lock up front, and a file only its owner can read (it holds spec envs, i.e. secrets). Every call is one transaction,
/// so a crash at any instant leaves the state as of the last completed call.
/// </summary>
public sealed class SqliteStore : IDisposable
{
    private const int BusyTimeoutMs = 10000;

    private readonly string _connectionString;
    private readonly TimeProvider _time;

    private SqliteStore(string path, string connectionString, TimeProvider time)
    {
        Path = path;
        _connectionString = connectionString;
        _time = time;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>The schema version after the migrations applied at open.</summary>
    public int SchemaVersion { get; private set; }

    /// <summary>The schema version the file had before this open (0 for a new file).</summary>
    public int MigratedFrom { get; private set; }

    /// <summary>
    /// Opens (creating it owner-only, and its folder, if needed) the database at <paramref name="path"/> and applies the
    /// migrations newer than its recorded version in one immediate transaction, so two processes opening a fresh file at once
    /// serialize instead of both migrating. A file newer than <paramref name="migrations"/> is refused.
    /// </summary>
    public static async Task<SqliteStore> OpenAsync(string path, IReadOnlyList<StoreMigration> migrations, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(migrations);
        ArgumentNullException.ThrowIfNull(time);
        var full = System.IO.Path.GetFullPath(path);
        WfHome.CreatePrivateDirectory(System.IO.Path.GetDirectoryName(full)!);
        WfHome.CreatePrivateFile(full);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            ForeignKeys = true,
            Pooling = true,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString();
        var store = new SqliteStore(full, connectionString, time);
        await store.MigrateAsync(migrations, cancellationToken).ConfigureAwait(false);
        return store;
    }

    /// <summary>The store's clock now: what write transactions stamp, for reads that need the same "now".</summary>
    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Runs <paramref name="body"/> in a write transaction (BEGIN IMMEDIATE) with the current time in Unix ms.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteTransaction, long, Task<T>> body, CancellationToken cancellationToken) =>
        InTransactionAsync(body, write: true, cancellationToken);

    /// <summary>Runs <paramref name="body"/> in a deferred (read) transaction; under WAL it never blocks a writer.</summary>
    public Task<T> ReadAsync<T>(Func<SqliteTransaction, Task<T>> body, CancellationToken cancellationToken) =>
        InTransactionAsync((tx, _) => body(tx), write: false, cancellationToken);

    /// <summary>Runs SQLite's integrity check; "ok" when the file is sound.</summary>
    public Task<string> CheckIntegrityAsync(CancellationToken cancellationToken) =>
        ReadAsync(async tx => string.Join("; ", await QueryAsync(tx, "PRAGMA integrity_check", r => r.GetString(0), cancellationToken).ConfigureAwait(false)), cancellationToken);

    /// <summary>Closes the pooled connections so the file is released.</summary>
    public void Dispose()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <summary>Executes a statement (or several) and returns the rows changed.</summary>
    public static async Task<int> ExecuteAsync(SqliteTransaction tx, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = CreateCommand(tx, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The first column of the first row, or null.</summary>
    public static async Task<object?> ScalarAsync(SqliteTransaction tx, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = CreateCommand(tx, sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every row, each mapped by <paramref name="read"/>.</summary>
    public static async Task<IReadOnlyList<T>> QueryAsync<T>(
        SqliteTransaction tx, string sql, Func<SqliteDataReader, T> read, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = CreateCommand(tx, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>A nullable text column by name.</summary>
    public static string? NullableString(SqliteDataReader r, string column)
    {
        var i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : r.GetString(i);
    }

    /// <summary>A nullable integer column by name.</summary>
    public static long? NullableInt64(SqliteDataReader r, string column)
    {
        var i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : r.GetInt64(i);
    }

    /// <summary>A nullable Unix-milliseconds column by name (ms since the epoch: sortable, exact, and equal when read back).</summary>
    public static DateTimeOffset? NullableTime(SqliteDataReader r, string column) =>
        NullableInt64(r, column) is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    private static SqliteCommand CreateCommand(SqliteTransaction tx, string sql, (string Name, object? Value)[] parameters)
    {
        var command = tx.Connection!.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value switch
            {
                null => DBNull.Value,
                bool b => b ? 1 : 0,
                _ => value,
            });
        }

        return command;
    }

    private async Task<T> InTransactionAsync<T>(Func<SqliteTransaction, long, Task<T>> body, bool write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // Writers take the lock up front (BEGIN IMMEDIATE) so two writers never deadlock upgrading a read lock; readers
        // stay deferred and, under WAL, never block the controller.
        await using var tx = connection.BeginTransaction(deferred: !write);
        var result = await body(tx, _time.GetUtcNow().ToUnixTimeMilliseconds()).ConfigureAwait(false);

        // Past this point the change is either whole on disk or absent: no token is honoured during the commit itself.
        await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        return result;
    }

    private async Task MigrateAsync(IReadOnlyList<StoreMigration> migrations, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // WAL is a property of the file, set outside a transaction.
        await using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL";
            await wal.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var tx = connection.BeginTransaction(deferred: false);
        await ExecuteAsync(tx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", cancellationToken).ConfigureAwait(false);
        var rows = await QueryAsync(tx, "SELECT version FROM schema_version", r => r.GetInt32(0), cancellationToken).ConfigureAwait(false);
        var current = rows.Count == 0 ? 0 : rows[0];
        var latest = migrations.Count == 0 ? 0 : migrations[^1].Version;
        if (current > latest)
        {
            throw new StoreSchemaException(
                $"database {Path} has schema version {current}, newer than this wf understands ({latest}); upgrade wf or use another WF_HOME");
        }

        foreach (var migration in migrations)
        {
            if (migration.Version > current)
            {
                await ExecuteAsync(tx, migration.Sql, cancellationToken).ConfigureAwait(false);
            }
        }

        if (latest != current)
        {
            await ExecuteAsync(tx, "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES ($v)", cancellationToken, ("$v", latest)).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        MigratedFrom = current;
        SchemaVersion = latest;
    }

    private async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var pragmas = connection.CreateCommand();

            // FULL: a commit survives power loss too, not only a process crash; the controllers write rarely enough.
            pragmas.CommandText = $"PRAGMA busy_timeout = {BusyTimeoutMs}; PRAGMA synchronous = FULL;";
            await pragmas.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
