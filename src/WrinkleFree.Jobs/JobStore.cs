using System.Text.Json;
using Microsoft.Data.Sqlite;
using WrinkleFree.Platform.Storage;
using static WrinkleFree.Platform.Storage.SqliteStore;

namespace WrinkleFree.Jobs;

/// <summary>
/// Managed jobs and every state transition in one SQLite file (WAL, synchronous FULL). Each call is one transaction; state
/// changes are compare-and-set on the current status, so the controller, <c>wf jobs cancel</c> and <c>wf jobs queue</c>
/// never overwrite each other's decisions.
/// </summary>
internal sealed class JobStore
{
    public const string FileName = "jobs.db";

    // Version 1 is written IF NOT EXISTS: files from before the shared store base (which recorded the version in
    // PRAGMA user_version, not in schema_version) already hold these tables and take the step as a no-op.
    private static readonly IReadOnlyList<StoreMigration> Migrations =
    [
        new(1, "jobs and their state transitions", """
        CREATE TABLE IF NOT EXISTS jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            stage TEXT,
            spec_yaml TEXT NOT NULL,
            source_path TEXT,
            launch_dir TEXT NOT NULL,
            status TEXT NOT NULL,
            submitted_at INTEGER NOT NULL,
            started_at INTEGER,
            ended_at INTEGER,
            recoveries INTEGER NOT NULL,
            checkpoint_step INTEGER,
            failure_reason TEXT,
            controller_pid INTEGER,
            controller_start INTEGER,
            task_pid INTEGER,
            task_start INTEGER,
            log_path TEXT NOT NULL
        ) STRICT;
        CREATE TABLE IF NOT EXISTS job_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id INTEGER NOT NULL,
            time INTEGER NOT NULL,
            from_status TEXT,
            to_status TEXT NOT NULL,
            message TEXT
        ) STRICT;
        CREATE INDEX IF NOT EXISTS job_events_by_job ON job_events (job_id, id);
        """),
        new(2, "where each job runs (local or a cluster), as JSON", "ALTER TABLE jobs ADD COLUMN placement TEXT;"),
    ];

    private readonly SqliteStore _db;
    private readonly TimeProvider _time;

    private JobStore(SqliteStore db, TimeProvider time)
    {
        _db = db;
        _time = time;
    }

    public static async Task<JobStore> OpenAsync(string path, TimeProvider time, CancellationToken cancellationToken) =>
        new(await SqliteStore.OpenAsync(path, Migrations, time, cancellationToken).ConfigureAwait(false), time);

    /// <summary>Inserts a PENDING job; its log path is computed from the new id.</summary>
    public Task<JobRecord> CreateAsync(JobRecord job, Func<long, string> logPathOf, CancellationToken cancellationToken) =>
        InTransactionAsync(async (tx, now) =>
        {
            var id = (long)(await ScalarAsync(tx, """
                INSERT INTO jobs (name, stage, spec_yaml, source_path, launch_dir, status, submitted_at, recoveries, log_path, placement)
                VALUES ($name, $stage, $spec, $source, $dir, $status, $now, 0, '', $placement);
                SELECT last_insert_rowid();
                """, cancellationToken, ("$name", job.Name), ("$stage", job.Stage), ("$spec", job.SpecYaml), ("$source", job.SourcePath),
                ("$dir", job.LaunchDirectory), ("$status", JobStatus.Pending.ToName()), ("$now", now),
                ("$placement", job.Placement == JobPlacement.OnThisMachine ? null : JsonSerializer.Serialize(job.Placement))).ConfigureAwait(false))!;
            await ScalarAsync(tx, "UPDATE jobs SET log_path = $log WHERE id = $id", cancellationToken, ("$log", logPathOf(id)), ("$id", id)).ConfigureAwait(false);
            await InsertEventAsync(tx, id, now, null, JobStatus.Pending, "submitted", cancellationToken).ConfigureAwait(false);
            return (await ReadAsync(tx, id, cancellationToken).ConfigureAwait(false))!;
        }, cancellationToken);

    public Task<JobRecord?> GetAsync(long id, CancellationToken cancellationToken) =>
        InTransactionAsync((tx, _) => ReadAsync(tx, id, cancellationToken), cancellationToken);

    public Task<IReadOnlyList<JobRecord>> ListAsync(CancellationToken cancellationToken) =>
        _db.ReadAsync(tx => QueryAsync(tx, "SELECT * FROM jobs ORDER BY id", Map, cancellationToken), cancellationToken);

    public Task<IReadOnlyList<JobEvent>> EventsAsync(long id, CancellationToken cancellationToken) =>
        _db.ReadAsync(tx => QueryAsync(
            tx,
            "SELECT id, job_id, time, from_status, to_status, message FROM job_events WHERE job_id = $id ORDER BY id",
            reader => new JobEvent(
                reader.GetInt64(0), reader.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                reader.IsDBNull(3) ? null : JobStatusNames.Parse(reader.GetString(3)), JobStatusNames.Parse(reader.GetString(4)),
                reader.IsDBNull(5) ? null : reader.GetString(5)),
            cancellationToken,
            ("$id", id)), cancellationToken);

    /// <summary>
    /// Applies <paramref name="change"/> (status and any other fields) if the job's status is one of <paramref name="from"/>
    /// (any non-final status when null); records an event when the status changes. Returns the new record, or null when the
    /// job was in another state (someone else decided first) or does not exist.
    /// </summary>
    public Task<JobRecord?> TransitionAsync(long id, Func<JobRecord, JobRecord> change, string? message, IReadOnlyCollection<JobStatus>? from, CancellationToken cancellationToken) =>
        InTransactionAsync(async (tx, now) =>
        {
            var before = await ReadAsync(tx, id, cancellationToken).ConfigureAwait(false);
            if (before is null || (from is null ? before.Status.IsTerminal() : !from.Contains(before.Status)))
            {
                return null;
            }

            var after = change(before);
            if (after.Status.IsTerminal() && after.EndedAt is null)
            {
                after = after with { EndedAt = DateTimeOffset.FromUnixTimeMilliseconds(now) };
            }

            await ScalarAsync(tx, """
                UPDATE jobs SET status = $status, started_at = $started, ended_at = $ended, recoveries = $recoveries,
                    checkpoint_step = $step, failure_reason = $reason, controller_pid = $cpid, controller_start = $cstart,
                    task_pid = $tpid, task_start = $tstart
                WHERE id = $id
                """, cancellationToken, ("$status", after.Status.ToName()), ("$started", after.StartedAt?.ToUnixTimeMilliseconds()),
                ("$ended", after.EndedAt?.ToUnixTimeMilliseconds()), ("$recoveries", after.Recoveries), ("$step", after.CheckpointStep),
                ("$reason", after.FailureReason), ("$cpid", after.ControllerPid), ("$cstart", after.ControllerStartTime),
                ("$tpid", after.TaskPid), ("$tstart", after.TaskStartTime), ("$id", id)).ConfigureAwait(false);
            if (after.Status != before.Status)
            {
                await InsertEventAsync(tx, id, now, before.Status, after.Status, message, cancellationToken).ConfigureAwait(false);
            }

            return await ReadAsync(tx, id, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public DateTimeOffset Now => _time.GetUtcNow();

    private Task<T> InTransactionAsync<T>(Func<SqliteTransaction, long, Task<T>> body, CancellationToken cancellationToken) =>
        _db.WriteAsync(body, cancellationToken);

    private static async Task<JobRecord?> ReadAsync(SqliteTransaction tx, long id, CancellationToken cancellationToken) =>
        (await QueryAsync(tx, "SELECT * FROM jobs WHERE id = $id", Map, cancellationToken, ("$id", id)).ConfigureAwait(false)).FirstOrDefault();

    private static Task InsertEventAsync(SqliteTransaction tx, long id, long now, JobStatus? from, JobStatus to, string? message, CancellationToken cancellationToken) =>
        ScalarAsync(tx, "INSERT INTO job_events (job_id, time, from_status, to_status, message) VALUES ($id, $now, $from, $to, $message)",
            cancellationToken, ("$id", id), ("$now", now), ("$from", from?.ToName()), ("$to", to.ToName()), ("$message", message));

    private static JobRecord Map(SqliteDataReader r)
    {
        string? Text(string column) => r.IsDBNull(r.GetOrdinal(column)) ? null : r.GetString(r.GetOrdinal(column));
        long? Long(string column) => r.IsDBNull(r.GetOrdinal(column)) ? null : r.GetInt64(r.GetOrdinal(column));
        DateTimeOffset? Time(string column) => Long(column) is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
        return new JobRecord
        {
            Id = Long("id")!.Value,
            Name = Text("name")!,
            Stage = Text("stage"),
            SpecYaml = Text("spec_yaml")!,
            SourcePath = Text("source_path"),
            LaunchDirectory = Text("launch_dir")!,
            Status = JobStatusNames.Parse(Text("status")!),
            SubmittedAt = Time("submitted_at")!.Value,
            StartedAt = Time("started_at"),
            EndedAt = Time("ended_at"),
            Recoveries = (int)Long("recoveries")!.Value,
            CheckpointStep = Long("checkpoint_step"),
            FailureReason = Text("failure_reason"),
            ControllerPid = (int?)Long("controller_pid"),
            ControllerStartTime = Long("controller_start"),
            TaskPid = (int?)Long("task_pid"),
            TaskStartTime = Long("task_start"),
            LogPath = Text("log_path")!,
            // Jobs from before version 2, and local ones, have none.
            Placement = Text("placement") is { } placement ? JsonSerializer.Deserialize<JobPlacement>(placement)! : JobPlacement.OnThisMachine,
        };
    }
}
