using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Platform.Storage;
using static WrinkleFree.Platform.Storage.SqliteStore;

namespace WrinkleFree.Service.State;

/// <summary>
/// The service's durable state (services, spec versions, replicas, event log) in one SQLite file. Every method is one
/// transaction, so a crash at any instant leaves the state as of the last completed call.
/// </summary>
public sealed partial class ServiceStore : IDisposable
{
    /// <summary>The file name the daemon uses under the WrinkleFree home folder.</summary>
    public const string DefaultFileName = "state.db";

    private readonly SqliteStore _db;

    private ServiceStore(SqliteStore db) => _db = db;

    /// <summary>The database file.</summary>
    public string Path => _db.Path;

    /// <summary>The schema version after the migrations applied at open.</summary>
    public int SchemaVersion => _db.SchemaVersion;

    /// <summary>How many of a service's newest events are kept; older ones are dropped as new ones arrive (tests lower it).</summary>
    internal int EventsKeptPerService { get; set; } = DefaultEventsKeptPerService;

    /// <summary>The default of <see cref="EventsKeptPerService"/>: days of scale decisions and replica changes.</summary>
    public const int DefaultEventsKeptPerService = 10_000;

    /// <summary>Opens (creating it and its folder if needed) the database at <paramref name="path"/> and migrates it.</summary>
    public static Task<ServiceStore> OpenAsync(string path, TimeProvider time, ILogger? logger, CancellationToken cancellationToken) =>
        OpenAsync(path, time, logger, StoreSchema.Migrations, cancellationToken);

    internal static async Task<ServiceStore> OpenAsync(
        string path, TimeProvider time, ILogger? logger, IReadOnlyList<StoreMigration> migrations, CancellationToken cancellationToken)
    {
        SqliteStore db;
        try
        {
            db = await SqliteStore.OpenAsync(path, migrations, time, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreSchemaException e)
        {
            throw new ServiceStoreException("state " + e.Message, e);
        }

        if (db.MigratedFrom != db.SchemaVersion)
        {
            Log.Migrated(logger ?? NullLogger.Instance, db.Path, db.MigratedFrom, db.SchemaVersion);
        }

        return new ServiceStore(db);
    }

    /// <summary>Creates a service with its first version; fails if the name is taken.</summary>
    public Task<ServiceRecord> CreateServiceAsync(string name, string specYaml, string status, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(specYaml);
        ArgumentException.ThrowIfNullOrEmpty(status);
        return InTransactionAsync(async (tx, now) =>
        {
            if (await ReadServiceAsync(tx, name, cancellationToken).ConfigureAwait(false) is not null)
            {
                throw new ServiceStoreException($"service '{name}' already exists");
            }

            await ExecuteAsync(tx, """
                INSERT INTO services (name, spec_yaml, current_version, status, endpoint, port, created_at, updated_at)
                VALUES ($name, $spec, 1, $status, NULL, NULL, $now, $now);
                INSERT INTO versions (service, version, spec_yaml, created_at) VALUES ($name, 1, $spec, $now);
                """, cancellationToken, ("$name", name), ("$spec", specYaml), ("$status", status), ("$now", now)).ConfigureAwait(false);
            await InsertEventAsync(tx, ServiceEvents.ServiceCreated(name, status), now, cancellationToken).ConfigureAwait(false);
            return (await ReadServiceAsync(tx, name, cancellationToken).ConfigureAwait(false))!;
        }, cancellationToken);
    }

    /// <summary>The service named <paramref name="name"/>, or null.</summary>
    public Task<ServiceRecord?> GetServiceAsync(string name, CancellationToken cancellationToken) =>
        ReadAsync(tx => ReadServiceAsync(tx, name, cancellationToken), cancellationToken);

    /// <summary>All services, by name.</summary>
    public Task<IReadOnlyList<ServiceRecord>> ListServicesAsync(CancellationToken cancellationToken) =>
        ReadAsync(tx => QueryAsync(tx, "SELECT * FROM services ORDER BY name", ReadService, cancellationToken), cancellationToken);

    /// <summary>Stores a new spec as the next version and makes it the service's current version.</summary>
    public Task<ServiceVersionRecord> AddVersionAsync(string name, string specYaml, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(specYaml);
        return InTransactionAsync(async (tx, now) =>
        {
            var service = await RequireServiceAsync(tx, name, cancellationToken).ConfigureAwait(false);
            var version = service.CurrentVersion + 1;
            await ExecuteAsync(tx, """
                INSERT INTO versions (service, version, spec_yaml, created_at) VALUES ($name, $version, $spec, $now);
                UPDATE services SET spec_yaml = $spec, current_version = $version, updated_at = $now WHERE name = $name;
                """, cancellationToken, ("$name", name), ("$version", version), ("$spec", specYaml), ("$now", now)).ConfigureAwait(false);
            await InsertEventAsync(tx, Event(name, null, ServiceEventKinds.VersionAdded, $"version {version}"), now, cancellationToken).ConfigureAwait(false);
            return new ServiceVersionRecord(name, version, specYaml, FromUnixMs(now));
        }, cancellationToken);
    }

    /// <summary>Every stored version of a service, oldest first.</summary>
    public Task<IReadOnlyList<ServiceVersionRecord>> ListVersionsAsync(string name, CancellationToken cancellationToken) =>
        ReadAsync(tx => QueryAsync(
            tx,
            "SELECT service, version, spec_yaml, created_at FROM versions WHERE service = $name ORDER BY version",
            r => new ServiceVersionRecord(r.GetString(0), r.GetInt32(1), r.GetString(2), FromUnixMs(r.GetInt64(3))),
            cancellationToken,
            ("$name", name)), cancellationToken);

    /// <summary>Writes a service's status, endpoint and port (logging a status change as an event).</summary>
    public Task<ServiceRecord> UpdateServiceAsync(string name, string status, string? endpoint, int? port, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(status);
        return InTransactionAsync(async (tx, now) =>
        {
            var before = await RequireServiceAsync(tx, name, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(tx, """
                UPDATE services SET status = $status, endpoint = $endpoint, port = $port, updated_at = $now WHERE name = $name
                """, cancellationToken, ("$name", name), ("$status", status), ("$endpoint", endpoint), ("$port", port), ("$now", now)).ConfigureAwait(false);
            if (before.Status != status)
            {
                await InsertEventAsync(tx, Event(name, null, ServiceEventKinds.ServiceStatus, $"{before.Status} -> {status}"), now, cancellationToken).ConfigureAwait(false);
            }

            return (await ReadServiceAsync(tx, name, cancellationToken).ConfigureAwait(false))!;
        }, cancellationToken);
    }

    /// <summary>
    /// Deletes a service with its versions, replicas and events; its replica id counter and its cost history stay (replicas
    /// still recorded as live stop costing now).
    /// </summary>
    public Task<bool> DeleteServiceAsync(string name, CancellationToken cancellationToken) =>
        InTransactionAsync(async (tx, now) =>
        {
            await EndUsageAsync(tx, name, now, cancellationToken).ConfigureAwait(false);
            return await ExecuteAsync(tx, "DELETE FROM services WHERE name = $name", cancellationToken, ("$name", name)).ConfigureAwait(false) > 0;
        }, cancellationToken);

    /// <summary>Records a replica about to be launched, assigning the service's next replica id.</summary>
    public Task<ReplicaRecord> AddReplicaAsync(NewReplica replica, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replica);
        return InTransactionAsync(async (tx, now) =>
        {
            await RequireServiceAsync(tx, replica.Service, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(tx, """
                INSERT INTO replica_ids (service, last_id) VALUES ($service, 1)
                ON CONFLICT (service) DO UPDATE SET last_id = last_id + 1
                """, cancellationToken, ("$service", replica.Service)).ConfigureAwait(false);
            var id = (await QueryAsync(tx, "SELECT last_id FROM replica_ids WHERE service = $service", r => r.GetInt32(0), cancellationToken, ("$service", replica.Service)).ConfigureAwait(false))[0];
            var record = new ReplicaRecord
            {
                Service = replica.Service,
                ReplicaId = id,
                Version = replica.Version,
                Tier = replica.Tier,
                Provider = replica.Provider,
                Status = replica.Status,
                CostPerHour = replica.CostPerHour,
                LaunchedAt = FromUnixMs(now),
            };
            await ExecuteAsync(tx, """
                INSERT INTO replicas (service, replica_id, version, tier, provider, status, endpoint_url, handle, cost_per_hour,
                                      launched_at, ready_at, terminated_at)
                VALUES ($service, $id, $version, $tier, $provider, $status, NULL, NULL, $cost, $now, NULL, NULL)
                """, cancellationToken, ("$service", record.Service), ("$id", id), ("$version", record.Version), ("$tier", record.Tier),
                ("$provider", record.Provider), ("$status", record.Status), ("$cost", record.CostPerHour), ("$now", now)).ConfigureAwait(false);
            await InsertEventAsync(tx, Event(record.Service, id, ServiceEventKinds.ReplicaAdded,
                $"tier {record.Tier} ({record.Provider}), version {record.Version}, {record.Status}"), now, cancellationToken).ConfigureAwait(false);
            return record;
        }, cancellationToken);
    }

    /// <summary>Writes one replica's mutable fields; see <see cref="UpdateReplicasAsync"/>.</summary>
    public async Task<ReplicaRecord> UpdateReplicaAsync(ReplicaRecord replica, string? message, CancellationToken cancellationToken) =>
        (await UpdateReplicasAsync([replica], message, cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Writes the replicas' status, endpoint, handle, ready and terminated times in one transaction, logging each status
    /// change (with <paramref name="message"/>) as an event. Identity fields (tier, provider, version, cost) are fixed at add.
    /// </summary>
    public Task<IReadOnlyList<ReplicaRecord>> UpdateReplicasAsync(IReadOnlyList<ReplicaRecord> replicas, string? message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        return InTransactionAsync<IReadOnlyList<ReplicaRecord>>(async (tx, now) =>
        {
            var written = new List<ReplicaRecord>(replicas.Count);
            foreach (var replica in replicas)
            {
                var before = await ReadReplicaAsync(tx, replica.Service, replica.ReplicaId, cancellationToken).ConfigureAwait(false)
                    ?? throw new ServiceStoreException($"service '{replica.Service}' has no replica {replica.ReplicaId}");
                await ExecuteAsync(tx, """
                    UPDATE replicas SET status = $status, endpoint_url = $endpoint, handle = $handle, ready_at = $ready,
                                        terminated_at = $terminated, failure_reason = $failure
                    WHERE service = $service AND replica_id = $id
                    """, cancellationToken, ("$service", replica.Service), ("$id", replica.ReplicaId), ("$status", replica.Status),
                    ("$endpoint", replica.EndpointUrl), ("$handle", replica.Handle), ("$ready", ToUnixMs(replica.ReadyAt)),
                    ("$terminated", ToUnixMs(replica.TerminatedAt)), ("$failure", replica.FailureReason)).ConfigureAwait(false);
                if (before.Status != replica.Status)
                {
                    // A new failure reason says more than the caller's message.
                    var why = replica.FailureReason is { } reason && reason != before.FailureReason ? reason : message;
                    var text = $"{before.Status} -> {replica.Status}" + (why is null ? "" : ": " + why);
                    await InsertEventAsync(tx, Event(replica.Service, replica.ReplicaId, ServiceEventKinds.ReplicaStatus, text), now, cancellationToken).ConfigureAwait(false);
                }

                written.Add((await ReadReplicaAsync(tx, replica.Service, replica.ReplicaId, cancellationToken).ConfigureAwait(false))!);
            }

            return written;
        }, cancellationToken);
    }

    /// <summary>One replica, or null.</summary>
    public Task<ReplicaRecord?> GetReplicaAsync(string service, int replicaId, CancellationToken cancellationToken) =>
        ReadAsync(tx => ReadReplicaAsync(tx, service, replicaId, cancellationToken), cancellationToken);

    /// <summary>Replicas of one service (or of all when <paramref name="service"/> is null), by service and id.</summary>
    public Task<IReadOnlyList<ReplicaRecord>> ListReplicasAsync(string? service, bool includeTerminated, CancellationToken cancellationToken) =>
        ReadAsync(tx => QueryAsync(
            tx,
            "SELECT * FROM replicas WHERE ($service IS NULL OR service = $service) AND ($all OR terminated_at IS NULL) ORDER BY service, replica_id",
            ReadReplica,
            cancellationToken,
            ("$service", service),
            ("$all", includeTerminated)), cancellationToken);

    /// <summary>
    /// Appends <paramref name="serviceEvent"/> (its <see cref="ServiceEvent.Id"/> ignored, its time "now" when left default)
    /// and drops the service's oldest events beyond <see cref="EventsKeptPerService"/>; returns it as stored.
    /// </summary>
    /// <exception cref="ServiceStoreException">The service does not exist.</exception>
    /// <exception cref="ArgumentException">Details are not a JSON object.</exception>
    public Task<ServiceEvent> AddEventAsync(ServiceEvent serviceEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serviceEvent);
        ArgumentException.ThrowIfNullOrEmpty(serviceEvent.Service);
        ArgumentException.ThrowIfNullOrEmpty(serviceEvent.Kind);
        ArgumentNullException.ThrowIfNull(serviceEvent.Message);
        ValidateDetails(serviceEvent.Details);
        return InTransactionAsync(async (tx, now) =>
        {
            await RequireServiceAsync(tx, serviceEvent.Service, cancellationToken).ConfigureAwait(false);
            return await InsertEventAsync(tx, serviceEvent, now, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>A service's events with ids above <paramref name="afterId"/>, oldest first, at most <paramref name="limit"/>.</summary>
    public Task<IReadOnlyList<ServiceEvent>> ListEventsAsync(string service, long afterId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ReadAsync(tx => QueryAsync(
            tx,
            "SELECT * FROM service_events WHERE service = $service AND id > $after ORDER BY id LIMIT $limit",
            ReadEvent,
            cancellationToken,
            ("$service", service),
            ("$after", afterId),
            ("$limit", limit)), cancellationToken);
    }

    /// <summary>
    /// The latest <paramref name="limit"/> events of one service (or of all when <paramref name="service"/> is null),
    /// oldest first: the tail `wf events` starts from and the status page lists.
    /// </summary>
    public Task<IReadOnlyList<ServiceEvent>> ListLatestEventsAsync(string? service, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ReadAsync(tx => QueryAsync(
            tx,
            """
            SELECT * FROM (SELECT * FROM service_events WHERE $service IS NULL OR service = $service ORDER BY id DESC LIMIT $limit)
            ORDER BY id
            """,
            ReadEvent,
            cancellationToken,
            ("$service", service),
            ("$limit", limit)), cancellationToken);
    }

    /// <summary>Runs SQLite's integrity check; "ok" when the file is sound.</summary>
    public Task<string> CheckIntegrityAsync(CancellationToken cancellationToken) => _db.CheckIntegrityAsync(cancellationToken);

    /// <summary>Closes the pooled connections so the file is released.</summary>
    public void Dispose() => _db.Dispose();

    private Task<T> ReadAsync<T>(Func<SqliteTransaction, Task<T>> body, CancellationToken cancellationToken) => _db.ReadAsync(body, cancellationToken);

    private Task<T> InTransactionAsync<T>(Func<SqliteTransaction, long, Task<T>> body, CancellationToken cancellationToken) => _db.WriteAsync(body, cancellationToken);

    private static async Task<ServiceRecord> RequireServiceAsync(SqliteTransaction tx, string name, CancellationToken cancellationToken) =>
        await ReadServiceAsync(tx, name, cancellationToken).ConfigureAwait(false)
        ?? throw new ServiceStoreException($"no service named '{name}'");

    private static async Task<ServiceRecord?> ReadServiceAsync(SqliteTransaction tx, string name, CancellationToken cancellationToken) =>
        (await QueryAsync(tx, "SELECT * FROM services WHERE name = $name", ReadService, cancellationToken, ("$name", name)).ConfigureAwait(false))
        .FirstOrDefault();

    private static async Task<ReplicaRecord?> ReadReplicaAsync(SqliteTransaction tx, string service, int replicaId, CancellationToken cancellationToken) =>
        (await QueryAsync(tx, "SELECT * FROM replicas WHERE service = $service AND replica_id = $id", ReadReplica, cancellationToken,
            ("$service", service), ("$id", replicaId)).ConfigureAwait(false))
        .FirstOrDefault();

    private async Task<ServiceEvent> InsertEventAsync(SqliteTransaction tx, ServiceEvent e, long now, CancellationToken cancellationToken)
    {
        var at = e.At == default ? now : e.At.ToUnixTimeMilliseconds();
        var id = (await QueryAsync(tx, """
            INSERT INTO service_events (service, at, kind, message, replica_id, details)
            VALUES ($service, $at, $kind, $message, $replica, $details)
            RETURNING id
            """, r => r.GetInt64(0), cancellationToken, ("$service", e.Service), ("$at", at), ("$kind", e.Kind), ("$message", e.Message),
            ("$replica", e.ReplicaId), ("$details", e.Details)).ConfigureAwait(false))[0];
        // The newest EventsKeptPerService stay: the index on (service, id) makes this a short walk from the newest.
        await ExecuteAsync(tx, """
            DELETE FROM service_events WHERE service = $service AND id <= (
                SELECT id FROM service_events WHERE service = $service ORDER BY id DESC LIMIT 1 OFFSET $keep)
            """, cancellationToken, ("$service", e.Service), ("$keep", EventsKeptPerService)).ConfigureAwait(false);
        return e with { Id = id, At = FromUnixMs(at) };
    }

    private static ServiceEvent Event(string service, int? replicaId, string kind, string message) =>
        new() { Service = service, ReplicaId = replicaId, Kind = kind, Message = message };

    private static void ValidateDetails(string? details)
    {
        if (details is null)
            return;
        try
        {
            using var doc = JsonDocument.Parse(details);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
                return;
        }
        catch (JsonException)
        {
            // Reported below with the rule.
        }
        throw new ArgumentException("event details must be a JSON object", nameof(details));
    }

    private static ServiceEvent ReadEvent(SqliteDataReader r) => new()
    {
        Id = r.GetInt64(r.GetOrdinal("id")),
        Service = r.GetString(r.GetOrdinal("service")),
        At = FromUnixMs(r.GetInt64(r.GetOrdinal("at"))),
        Kind = r.GetString(r.GetOrdinal("kind")),
        Message = r.GetString(r.GetOrdinal("message")),
        ReplicaId = r.IsDBNull(r.GetOrdinal("replica_id")) ? null : r.GetInt32(r.GetOrdinal("replica_id")),
        Details = NullableString(r, "details"),
    };

    private static ServiceRecord ReadService(SqliteDataReader r) => new()
    {
        Name = r.GetString(r.GetOrdinal("name")),
        SpecYaml = r.GetString(r.GetOrdinal("spec_yaml")),
        CurrentVersion = r.GetInt32(r.GetOrdinal("current_version")),
        Status = r.GetString(r.GetOrdinal("status")),
        Endpoint = NullableString(r, "endpoint"),
        Port = r.IsDBNull(r.GetOrdinal("port")) ? null : r.GetInt32(r.GetOrdinal("port")),
        CreatedAt = FromUnixMs(r.GetInt64(r.GetOrdinal("created_at"))),
        UpdatedAt = FromUnixMs(r.GetInt64(r.GetOrdinal("updated_at"))),
    };

    private static ReplicaRecord ReadReplica(SqliteDataReader r) => new()
    {
        Service = r.GetString(r.GetOrdinal("service")),
        ReplicaId = r.GetInt32(r.GetOrdinal("replica_id")),
        Version = r.GetInt32(r.GetOrdinal("version")),
        Tier = r.GetString(r.GetOrdinal("tier")),
        Provider = r.GetString(r.GetOrdinal("provider")),
        Status = r.GetString(r.GetOrdinal("status")),
        EndpointUrl = NullableString(r, "endpoint_url"),
        Handle = NullableString(r, "handle"),
        CostPerHour = r.GetDouble(r.GetOrdinal("cost_per_hour")),
        LaunchedAt = FromUnixMs(r.GetInt64(r.GetOrdinal("launched_at"))),
        ReadyAt = NullableTime(r, "ready_at"),
        TerminatedAt = NullableTime(r, "terminated_at"),
        FailureReason = NullableString(r, "failure_reason"),
    };

    // Milliseconds since the epoch: sortable, exact, and what a record read back compares equal to.
    private static DateTimeOffset FromUnixMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static long? ToUnixMs(DateTimeOffset? time) => time?.ToUnixTimeMilliseconds();
}
