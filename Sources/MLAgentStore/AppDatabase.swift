public import GRDB
import Foundation

/// Owns the SQLite database: connection setup, pragmas and the schema migrations.
///
/// Production uses a `DatabasePool` (WAL mode, concurrent readers, one writer); unit tests use
/// an in-memory `DatabaseQueue`. Nothing here knows about sockets or processes.
public struct AppDatabase: Sendable {
    public let writer: any DatabaseWriter

    /// How hard a commit waits for the disk. `full` (the default) fsyncs the WAL on every
    /// commit, so an acknowledged write survives a power loss, not only `kill -9`.
    public enum Synchronous: String, Sendable, CaseIterable {
        case full, normal
    }

    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    /// Opens (creating if needed) the database file at `path` in WAL mode and migrates it.
    public static func open(path: String, synchronous: Synchronous = .full) throws -> AppDatabase {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue.uppercased())")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        return try AppDatabase(pool)
    }

    /// An in-memory database for tests.
    public static func inMemory() throws -> AppDatabase {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        return try AppDatabase(DatabaseQueue(configuration: configuration))
    }

    /// Names of the migrations this build knows, in order.
    public static var migrationNames: [String] { migrator.migrations }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "jobs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("direction", .text).notNull()
                t.column("guidance", .text).notNull().defaults(to: "")
                t.column("agent", .text).notNull()
                t.column("priority", .integer).notNull().defaults(to: 0)
                t.column("state", .text).notNull()
                    .check(sql: "state IN ('queued','running','completed','failed','cancelled','interrupted')")
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("reason", .text)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.column("started_at", .datetime)
                t.column("finished_at", .datetime)
            }
            // A direction name is used once per workspace: its branch is never deleted.
            try db.execute(sql: "CREATE UNIQUE INDEX jobs_direction ON jobs(direction) WHERE direction <> ''")
            try db.execute(sql: "CREATE INDEX jobs_pick ON jobs(state, priority DESC, id)")

            try db.create(table: "events") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("time", .datetime).notNull()
                t.column("kind", .text).notNull()
                t.column("job_id", .integer).references("jobs")
                t.column("direction", .text)
                t.column("message", .text).notNull()
                t.column("data", .jsonText).notNull().defaults(to: "{}")
            }
            try db.execute(sql: "CREATE INDEX events_job ON events(job_id, seq)")

            try db.create(table: "settings") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
        }
        migrator.registerMigration("v2") { db in
            // Agents: each running job has a secret token, a process and a worktree.
            try db.alter(table: "jobs") { t in
                t.add(column: "token", .text)
                t.add(column: "pid", .integer)
                t.add(column: "worktree", .text)
                t.add(column: "log_path", .text)
                t.add(column: "last_seen_at", .datetime)
                t.add(column: "finished_direction", .boolean).notNull().defaults(to: false)
            }
            try db.execute(sql: "CREATE UNIQUE INDEX jobs_token ON jobs(token) WHERE token IS NOT NULL")
            // A direction exists once its name is known: at launch for an enqueued direction,
            // at `declare` for one the agent picks.
            try db.create(table: "directions") { t in
                t.primaryKey("name", .text)
                t.column("job_id", .integer).notNull().references("jobs")
                t.column("branch", .text).notNull()
                t.column("status", .text).notNull()
                t.column("rationale", .text).notNull().defaults(to: "")
                t.column("guidance", .text).notNull().defaults(to: "")
                t.column("learnings", .text)
                t.column("started_at", .datetime).notNull()
                t.column("finished_at", .datetime)
            }
            // Changes to the outside world (git) are recorded here in the same transaction as
            // the change that needs them, and marked done once carried out.
            try db.create(table: "intents") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("kind", .text).notNull()
                t.column("direction", .text)
                t.column("job_id", .integer)
                t.column("payload", .jsonText).notNull().defaults(to: "{}")
                t.column("state", .text).notNull().defaults(to: "pending")
                t.column("commit_id", .text)
                t.column("error", .text)
                t.column("created_at", .datetime).notNull()
                t.column("done_at", .datetime)
            }
            try db.execute(sql: "CREATE INDEX intents_pending ON intents(state, id)")
        }
        return migrator
    }
}
