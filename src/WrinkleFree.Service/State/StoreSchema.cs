using WrinkleFree.Platform.Storage;

namespace WrinkleFree.Service.State;

/// <summary>The state database's migrations. Append new steps; never edit a step that has shipped.</summary>
internal static class StoreSchema
{
    public static IReadOnlyList<StoreMigration> Migrations { get; } =
    [
        new(1, "services, versions, replicas, replica id counters, events", """
            CREATE TABLE services (
                name TEXT PRIMARY KEY NOT NULL,
                spec_yaml TEXT NOT NULL,
                current_version INTEGER NOT NULL,
                status TEXT NOT NULL,
                endpoint TEXT,
                port INTEGER,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            ) STRICT;
            CREATE TABLE versions (
                service TEXT NOT NULL REFERENCES services(name) ON DELETE CASCADE,
                version INTEGER NOT NULL,
                spec_yaml TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (service, version)
            ) STRICT;
            CREATE TABLE replicas (
                service TEXT NOT NULL REFERENCES services(name) ON DELETE CASCADE,
                replica_id INTEGER NOT NULL,
                version INTEGER NOT NULL,
                tier TEXT NOT NULL,
                provider TEXT NOT NULL,
                status TEXT NOT NULL,
                endpoint_url TEXT,
                handle TEXT,
                cost_per_hour REAL NOT NULL,
                launched_at INTEGER NOT NULL,
                ready_at INTEGER,
                terminated_at INTEGER,
                PRIMARY KEY (service, replica_id)
            ) STRICT;
            -- Outlives its service so that a re-created service never reuses an id the event log still mentions.
            CREATE TABLE replica_ids (
                service TEXT PRIMARY KEY NOT NULL,
                last_id INTEGER NOT NULL
            ) STRICT;
            -- No foreign key: the log of a deleted service stays readable.
            CREATE TABLE events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                service TEXT NOT NULL,
                replica_id INTEGER,
                time INTEGER NOT NULL,
                kind TEXT NOT NULL,
                message TEXT NOT NULL
            ) STRICT;
            CREATE INDEX events_by_service ON events (service, id);
            """),
        new(2, "why a replica failed", """
            ALTER TABLE replicas ADD COLUMN failure_reason TEXT;
            """),
        // The event log becomes part of its service (deleted with it, bounded per service on insert) and gains "details",
        // a JSON object with the numbers behind the message. Events of services already deleted are dropped;
        // AUTOINCREMENT keeps new ids above every copied one.
        new(3, "service_events: event log per service with JSON details, deleted with its service", """
            CREATE TABLE service_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                service TEXT NOT NULL REFERENCES services(name) ON DELETE CASCADE,
                at INTEGER NOT NULL,
                kind TEXT NOT NULL,
                message TEXT NOT NULL,
                replica_id INTEGER,
                details TEXT
            ) STRICT;
            INSERT INTO service_events (id, service, at, kind, message, replica_id)
                SELECT id, service, time, kind, message, replica_id FROM events
                WHERE service IN (SELECT name FROM services) ORDER BY id;
            DROP TABLE events;
            CREATE INDEX service_events_by_service ON service_events (service, id);
            """),
        // API keys (issue 12): only the SHA-256 of each key is kept; id is the key's short, non-secret prefix. service NULL
        // means every service. No foreign key: a key names a service by name and outlives a `wf down` of it.
        new(4, "api_keys: hashed API keys with per-key limits", """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY NOT NULL,
                hash TEXT NOT NULL UNIQUE,
                name TEXT,
                service TEXT,
                rpm INTEGER,
                tpm INTEGER,
                concurrency INTEGER,
                expires_at INTEGER,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER
            ) STRICT;
            """),
        // Cost (issue 15): what each replica cost and produced outlives its service (no foreign key, kept after `wf down`),
        // so `wf cost --since 7d` still counts a service removed yesterday. replica_usage follows replicas through triggers,
        // so no writer can forget it; it also keeps the replica's last scraped token counters, so a restarted controller
        // counts only what is new. token_usage holds generated/prompt tokens per replica per 5-minute bucket.
        new(5, "replica_usage and token_usage: replica-hours, $ and tokens per replica, kept after the service is removed", """
            CREATE TABLE replica_usage (
                service TEXT NOT NULL,
                replica_id INTEGER NOT NULL,
                tier TEXT NOT NULL,
                provider TEXT NOT NULL,
                cost_per_hour REAL NOT NULL,
                launched_at INTEGER NOT NULL,
                ended_at INTEGER,
                generated_counter INTEGER,
                prompt_counter INTEGER,
                PRIMARY KEY (service, replica_id)
            ) STRICT;
            INSERT INTO replica_usage (service, replica_id, tier, provider, cost_per_hour, launched_at, ended_at)
                SELECT service, replica_id, tier, provider, cost_per_hour, launched_at, terminated_at FROM replicas;
            CREATE INDEX replica_usage_by_end ON replica_usage (ended_at);
            CREATE TABLE token_usage (
                service TEXT NOT NULL,
                replica_id INTEGER NOT NULL,
                bucket INTEGER NOT NULL,
                generated INTEGER NOT NULL,
                prompt INTEGER NOT NULL,
                PRIMARY KEY (service, replica_id, bucket)
            ) STRICT;
            CREATE INDEX token_usage_by_bucket ON token_usage (bucket);
            CREATE TRIGGER replica_usage_added AFTER INSERT ON replicas BEGIN
                INSERT INTO replica_usage (service, replica_id, tier, provider, cost_per_hour, launched_at, ended_at)
                VALUES (NEW.service, NEW.replica_id, NEW.tier, NEW.provider, NEW.cost_per_hour, NEW.launched_at, NEW.terminated_at)
                ON CONFLICT (service, replica_id) DO NOTHING;
            END;
            CREATE TRIGGER replica_usage_ended AFTER UPDATE OF terminated_at ON replicas BEGIN
                UPDATE replica_usage SET ended_at = NEW.terminated_at WHERE service = NEW.service AND replica_id = NEW.replica_id;
            END;
            """),
    ];
}
