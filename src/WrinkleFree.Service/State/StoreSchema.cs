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
    ];
}
