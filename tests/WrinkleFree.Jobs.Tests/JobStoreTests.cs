using Microsoft.Data.Sqlite;
using WrinkleFree.Testing;

namespace WrinkleFree.Jobs.Tests;

public sealed class JobStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new("wf-jobstore-tests");

    private string DbPath => Path.Combine(_temp.Path, JobStore.FileName);

    [Fact]
    public async Task OpenAsync_FileFromBeforeTheSharedStoreBase_KeepsItsJobsAndMigrates()
    {
        // What the job store wrote before it moved onto SqliteStore: its tables, versioned by PRAGMA user_version only.
        await using (var connection = new SqliteConnection($"Data Source={DbPath}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, stage TEXT, spec_yaml TEXT NOT NULL,
                    source_path TEXT, launch_dir TEXT NOT NULL, status TEXT NOT NULL, submitted_at INTEGER NOT NULL, started_at INTEGER,
                    ended_at INTEGER, recoveries INTEGER NOT NULL, checkpoint_step INTEGER, failure_reason TEXT, controller_pid INTEGER,
                    controller_start INTEGER, task_pid INTEGER, task_start INTEGER, log_path TEXT NOT NULL) STRICT;
                CREATE TABLE job_events (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL, time INTEGER NOT NULL,
                    from_status TEXT, to_status TEXT NOT NULL, message TEXT) STRICT;
                CREATE INDEX job_events_by_job ON job_events (job_id, id);
                INSERT INTO jobs (name, spec_yaml, launch_dir, status, submitted_at, recoveries, log_path)
                    VALUES ('old', 'run: true', '/tmp', 'SUCCEEDED', 1700000000000, 0, '/tmp/old.log');
                PRAGMA user_version = 1;
                """;
            await command.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();

        var store = await JobStore.OpenAsync(DbPath, TimeProvider.System, Timeout());
        var jobs = await store.ListAsync(Timeout());

        var old = Assert.Single(jobs);
        Assert.Equal("old", old.Name);
        Assert.Equal(JobStatus.Succeeded, old.Status);
        var added = await store.CreateAsync(
            new JobRecord { Name = "new", SpecYaml = "run: true", LaunchDirectory = _temp.Path, LogPath = string.Empty }, id => $"/tmp/{id}.log", Timeout());
        Assert.Equal(2, added.Id);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task OpenAsync_NewFile_IsOwnerOnly()
    {
        await JobStore.OpenAsync(DbPath, TimeProvider.System, Timeout());

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(DbPath));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
}
