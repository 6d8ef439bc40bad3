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
        migrator.registerMigration("v3") { db in
            // Experiment tracking. Nothing here is ever deleted: failed runs are kept.
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("direction", .text).notNull().references("directions")
                t.column("job_id", .integer).notNull().references("jobs")
                t.column("name", .text).notNull()
                t.column("status", .text).notNull().check(sql: "status IN ('running','finished','failed')")
                t.column("rationale", .text).notNull()
                t.column("analysis", .text)
                t.column("started_at", .datetime).notNull()
                t.column("ended_at", .datetime)
                t.column("public_score", .double)
                t.column("public_ci", .jsonText)
                t.column("public_evals", .integer).notNull().defaults(to: 0)
                t.column("private_score", .double)
                t.column("metric_points", .integer).notNull().defaults(to: 0)
                t.column("has_model", .boolean).notNull().defaults(to: false)
            }
            try db.execute(sql: "CREATE INDEX runs_direction ON runs(direction, id)")
            // Params are written once; tags may be rewritten (last value wins).
            try db.execute(sql: """
                CREATE TABLE run_params (
                  run_id INTEGER NOT NULL REFERENCES runs(id),
                  key TEXT NOT NULL, value TEXT NOT NULL,
                  PRIMARY KEY (run_id, key)) WITHOUT ROWID
                """)
            try db.execute(sql: """
                CREATE TABLE run_tags (
                  run_id INTEGER NOT NULL REFERENCES runs(id),
                  key TEXT NOT NULL, value TEXT NOT NULL,
                  PRIMARY KEY (run_id, key)) WITHOUT ROWID
                """)
            // Metric points in arrival order (rowid). No foreign key: the insert path checks
            // the run once per batch, not once per point.
            try db.execute(sql: """
                CREATE TABLE metrics (
                  run_id INTEGER NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL,
                  value REAL NOT NULL, timestamp INTEGER NOT NULL)
                """)
            try db.execute(sql: "CREATE INDEX metrics_run ON metrics(run_id)")
            try db.execute(sql: """
                CREATE TABLE latest_metrics (
                  run_id INTEGER NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL,
                  value REAL NOT NULL, timestamp INTEGER NOT NULL,
                  PRIMARY KEY (run_id, key)) WITHOUT ROWID
                """)
            // Batches already recorded, so that a batch sent again after a lost connection is
            // recorded once.
            try db.execute(sql: """
                CREATE TABLE metric_batches (
                  run_id INTEGER NOT NULL, batch TEXT NOT NULL, points INTEGER NOT NULL,
                  PRIMARY KEY (run_id, batch)) WITHOUT ROWID
                """)
            try db.create(table: "artifacts") { t in
                t.column("run_id", .integer).notNull().references("runs")
                t.column("name", .text).notNull()
                t.column("is_directory", .boolean).notNull()
                t.column("files", .integer).notNull()
                t.column("bytes", .integer).notNull()
                t.column("created_at", .datetime).notNull()
                t.primaryKey(["run_id", "name"])
            }
            try db.create(table: "evaluations") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("run_id", .integer).notNull().references("runs")
                t.column("direction", .text).notNull()
                t.column("split", .text).notNull().check(sql: "split IN ('public','private')")
                t.column("metric", .text).notNull()
                t.column("score", .double).notNull()
                t.column("ci", .jsonText)
                t.column("rows", .integer).notNull()
                t.column("created_at", .datetime).notNull()
            }
            try db.execute(sql: "CREATE INDEX evaluations_run ON evaluations(run_id, id)")
            try db.execute(sql: "CREATE INDEX evaluations_direction ON evaluations(direction, split)")
            // The private split is scored once per direction, whatever happens above.
            try db.execute(sql: "CREATE UNIQUE INDEX evaluations_private ON evaluations(direction) WHERE split = 'private'")
            try db.alter(table: "directions") { t in
                t.add(column: "submitted_run", .integer)
                t.add(column: "overfit", .boolean).notNull().defaults(to: false)
            }
        }
        migrator.registerMigration("v4") { db in
            // The MLflow mirror. Every change to a run bumps its version in the same
            // transaction (triggers), which is how the mirror learns what to send.
            try db.alter(table: "runs") { t in t.add(column: "version", .integer).notNull().defaults(to: 0) }
            for table in ["run_params", "run_tags", "artifacts", "evaluations"] {
                try db.execute(sql: """
                    CREATE TRIGGER \(table)_mirror AFTER INSERT ON \(table)
                    BEGIN UPDATE runs SET version = version + 1 WHERE id = NEW.run_id; END
                    """)
            }
            try db.execute(sql: """
                CREATE TRIGGER run_tags_update_mirror AFTER UPDATE ON run_tags
                BEGIN UPDATE runs SET version = version + 1 WHERE id = NEW.run_id; END
                """)
            try db.execute(sql: """
                CREATE TRIGGER runs_mirror AFTER UPDATE OF status, analysis, ended_at, public_score, private_score ON runs
                BEGIN UPDATE runs SET version = version + 1 WHERE id = NEW.id; END
                """)
            try db.execute(sql: """
                CREATE TABLE mlflow_runs (
                  tracking_uri TEXT NOT NULL, run_id INTEGER NOT NULL REFERENCES runs(id),
                  mlflow_run_id TEXT, state TEXT NOT NULL CHECK (state IN ('creating','created','dead')),
                  synced_version INTEGER NOT NULL DEFAULT -1, metrics_cursor INTEGER NOT NULL DEFAULT 0,
                  inflight_cursor INTEGER, artifacts_sent TEXT NOT NULL DEFAULT '[]',
                  PRIMARY KEY (tracking_uri, run_id)) WITHOUT ROWID
                """)
            try db.create(table: "mlflow_dead_letters") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("tracking_uri", .text).notNull()
                t.column("run_id", .integer).notNull()
                t.column("operation", .text).notNull()
                t.column("status", .integer).notNull()
                t.column("reason", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
        }
        migrator.registerMigration("v5-mlflow") { db in
            // MLflow as its users expect it: a parent run per direction (durable mapping before
            // any data is sent, like runs), the logged model of a run's `model` artifact, the
            // dataset inputs, and the tags longer than MLflow keeps.
            try db.execute(sql: """
                CREATE TABLE mlflow_directions (
                  tracking_uri TEXT NOT NULL, direction TEXT NOT NULL REFERENCES directions(name),
                  mlflow_run_id TEXT, state TEXT NOT NULL CHECK (state IN ('creating','created','dead')),
                  synced TEXT NOT NULL DEFAULT '', cut_tags TEXT NOT NULL DEFAULT '[]',
                  PRIMARY KEY (tracking_uri, direction)) WITHOUT ROWID
                """)
            try db.alter(table: "mlflow_runs") { t in
                t.add(column: "model_id", .text)
                t.add(column: "model_state", .text)
                t.add(column: "inputs_logged", .boolean).notNull().defaults(to: false)
                t.add(column: "cut_tags", .text).notNull().defaults(to: "[]")
            }
            // The commit of a run's code is its job's archive: once it exists, the run is sent
            // again with `mlflow.source.git.commit`.
            try db.execute(sql: """
                CREATE TRIGGER intents_archive_mirror AFTER UPDATE OF state ON intents
                WHEN NEW.kind = 'archive' AND NEW.state = 'done' AND OLD.state <> 'done'
                BEGIN UPDATE runs SET version = version + 1 WHERE job_id = NEW.job_id; END
                """)
            // Runs mirrored flat before this version get their parent and system tags, and stay
            // in the experiment they are in: the default experiment was `mlagent` then.
            try db.execute(sql: "UPDATE mlflow_runs SET synced_version = -1")
            try db.execute(sql: """
                INSERT OR IGNORE INTO settings(key, value)
                SELECT 'mlflow_experiment', 'mlagent' WHERE EXISTS (SELECT 1 FROM mlflow_runs)
                """)
        }
        migrator.registerMigration("v6-eval") { db in
            // The overfit verdict of a submission, kept with its direction: why it is (or is not)
            // flagged and the gap it was compared with. Flags recorded before keep no reason.
            try db.alter(table: "directions") { t in
                t.add(column: "overfit_reason", .text)
                t.add(column: "gap_threshold", .double)
            }
        }
        migrator.registerMigration("v7-archive") { db in
            // Whether a job's worktree archive on exp/<name> is still to be written: a job is
            // reported to `mlagentctl wait` as ended only once its archive is committed.
            try db.alter(table: "jobs") { t in t.add(column: "archive_state", .text) }
            try db.execute(sql: """
                UPDATE jobs SET archive_state = (
                  SELECT CASE state WHEN 'pending' THEN 'pending' WHEN 'failed' THEN 'failed' ELSE 'done' END
                  FROM intents WHERE intents.kind = 'archive' AND intents.job_id = jobs.id ORDER BY id DESC LIMIT 1)
                """)
        }
        migrator.registerMigration("v8-inbox") { db in
            // Messages from operators to agents (`job.say`), marked read when the agent reads
            // them (`job.inbox`). Nothing is deleted: they land in the direction file.
            try db.create(table: "inbox_messages") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("job_id", .integer).notNull().references("jobs")
                t.column("text", .text).notNull()
                t.column("sent_at", .datetime).notNull()
                t.column("read_at", .datetime)
            }
            try db.execute(sql: "CREATE INDEX inbox_messages_job ON inbox_messages(job_id, id)")
        }
        migrator.registerMigration("v9-usage") { db in
            // Tokens and cost of each job's agent, read from its structured output: the
            // running totals (`reported`: the CLI's own dollar figure, else an estimate).
            try db.create(table: "job_usage") { t in
                t.primaryKey("job_id", .integer).references("jobs", onDelete: .cascade)
                t.column("input_tokens", .integer).notNull().defaults(to: 0)
                t.column("output_tokens", .integer).notNull().defaults(to: 0)
                t.column("cache_read_tokens", .integer).notNull().defaults(to: 0)
                t.column("cache_write_tokens", .integer).notNull().defaults(to: 0)
                t.column("cost_usd", .double).notNull().defaults(to: 0)
                t.column("reported", .boolean).notNull().defaults(to: false)
                t.column("updated_at", .datetime).notNull()
            }
        }
        migrator.registerMigration("v10-resources") { db in
            // What each job's agent used, read from its cgroup when the job ended.
            try db.create(table: "job_resources") { t in
                t.primaryKey("job_id", .integer).references("jobs", onDelete: .cascade)
                t.column("enforcement", .text).notNull()
                t.column("peak_memory_bytes", .integer)
                t.column("processes", .integer)
                t.column("peak_processes", .integer)
                t.column("cpu_usec", .integer)
                t.column("recorded_at", .datetime).notNull()
            }
        }
        registerPredictionMigrations(&migrator)
        registerSubmissionMigrations(&migrator)
        registerShareMigrations(&migrator)
        return migrator
    }
}
