import Foundation
import GRDB
public import MLAgentProtocol

/// What the MLflow mirror must send, and how far it got, per tracking server.
///
/// Every change to a run bumps `runs.version` through SQLite triggers, in the transaction of the
/// change itself, so the work is recorded durably with the record; metric points are sent from
/// the `metrics` table in arrival order (rowid), so the table is its own outbox and no point is
/// written twice. `mlflow_runs` holds the mapping to the MLflow run, made durable before any
/// data is sent, and the cursors.
extension Store {
    public struct MirrorRun: Sendable, Equatable {
        public var runID: Int64
        public var version: Int64
        public var mlflowRunID: String?
        /// `creating` until the MLflow run id is known; `dead` after a permanent error.
        public var state: String
        public var syncedVersion: Int64
        /// Rowid of the last metric point MLflow acknowledged.
        public var metricsCursor: Int64
        /// A batch sent but not acknowledged before a crash: its last rowid.
        public var inflightCursor: Int64?
        public var artifactsSent: [String]
        /// The MLflow logged model of the run's `model` artifact, once created; its state is
        /// `creating`, `created` (files uploading) or `ready`.
        public var modelID: String?
        public var modelState: String?
        public var inputsLogged: Bool
        /// Tags longer than MLflow keeps, sent cut with their full text as an artifact.
        public var cutTags: [String]
    }

    public struct MirrorPoint: Sendable, Equatable {
        public var rowid: Int64
        public var point: MetricPoint
    }

    /// Runs with something not yet mirrored to `uri` (never dead ones), oldest first.
    public func mirrorPending(uri: String, limit: Int) async throws -> [MirrorRun] {
        try await database.writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.id, r.version, m.mlflow_run_id, COALESCE(m.state, 'new') AS state,
                           COALESCE(m.synced_version, -1) AS synced_version, COALESCE(m.metrics_cursor, 0) AS metrics_cursor,
                           m.inflight_cursor, COALESCE(m.artifacts_sent, '[]') AS artifacts_sent,
                           m.model_id, m.model_state, COALESCE(m.inputs_logged, 0) AS inputs_logged,
                           COALESCE(m.cut_tags, '[]') AS cut_tags
                    FROM runs r LEFT JOIN mlflow_runs m ON m.run_id = r.id AND m.tracking_uri = ?
                    WHERE COALESCE(m.state, 'new') <> 'dead'
                      AND (m.run_id IS NULL OR m.synced_version < r.version
                           OR EXISTS (SELECT 1 FROM metrics x WHERE x.run_id = r.id AND x.rowid > m.metrics_cursor))
                    ORDER BY r.id LIMIT ?
                    """, arguments: [uri, limit])
            return rows.map(Self.mirrorRun)
        }
    }

    static func mirrorRun(_ row: Row) -> MirrorRun {
        func list(_ column: String) -> [String] {
            (try? JSONCoding.decoder.decode([String].self, from: Data((row[column] as String).utf8))) ?? []
        }
        return MirrorRun(
            runID: row["id"], version: row["version"], mlflowRunID: row["mlflow_run_id"], state: row["state"],
            syncedVersion: row["synced_version"], metricsCursor: row["metrics_cursor"], inflightCursor: row["inflight_cursor"],
            artifactsSent: list("artifacts_sent"), modelID: row["model_id"], modelState: row["model_state"],
            inputsLogged: row["inputs_logged"], cutTags: list("cut_tags"))
    }

    /// Records that the MLflow run is about to be created (before the request), so that an
    /// unclear outcome is looked up instead of created twice.
    public func mirrorCreating(uri: String, run: Int64) async throws {
        try await write { context in
            try context.db.execute(
                sql: "INSERT OR IGNORE INTO mlflow_runs(tracking_uri, run_id, state) VALUES (?, ?, 'creating')",
                arguments: [uri, run])
        }
    }

    public func mirrorCreated(uri: String, run: Int64, mlflowRunID: String) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE mlflow_runs SET mlflow_run_id = ?, state = 'created' WHERE tracking_uri = ? AND run_id = ?",
                arguments: [mlflowRunID, uri, run])
        }
    }

    /// The next metric points after `cursor`, in arrival order.
    public func mirrorPoints(run: Int64, after cursor: Int64, limit: Int) async throws -> [MirrorPoint] {
        try await database.writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT rowid, key, step, value, timestamp FROM metrics WHERE run_id = ? AND rowid > ? ORDER BY rowid LIMIT ?",
                arguments: [run, cursor, limit]
            ).map {
                MirrorPoint(
                    rowid: $0["rowid"], point: MetricPoint(key: $0["key"], value: $0["value"], step: $0["step"], timestamp: $0["timestamp"]))
            }
        }
    }

    /// Marks a batch as sent-but-unconfirmed (before the request).
    public func mirrorInflight(uri: String, run: Int64, through rowid: Int64?) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE mlflow_runs SET inflight_cursor = ? WHERE tracking_uri = ? AND run_id = ?", arguments: [rowid, uri, run])
        }
    }

    /// MLflow acknowledged the points through `rowid`.
    public func mirrorAdvance(uri: String, run: Int64, through rowid: Int64) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE mlflow_runs SET metrics_cursor = ?, inflight_cursor = NULL WHERE tracking_uri = ? AND run_id = ?",
                arguments: [rowid, uri, run])
        }
    }

    public func mirrorArtifactSent(uri: String, run: Int64, sent: [String]) async throws {
        let json = String(decoding: try JSONCoding.encoder.encode(sent), as: UTF8.self)
        try await write { context in
            try context.db.execute(
                sql: "UPDATE mlflow_runs SET artifacts_sent = ? WHERE tracking_uri = ? AND run_id = ?", arguments: [json, uri, run])
        }
    }

    public func mirrorSynced(uri: String, run: Int64, version: Int64) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE mlflow_runs SET synced_version = MAX(synced_version, ?) WHERE tracking_uri = ? AND run_id = ?",
                arguments: [version, uri, run])
        }
    }

    /// A permanent error: the run is set aside with the reason, and an event says so.
    public func mirrorDeadLetter(uri: String, run: Int64, operation: String, status: Int, reason: String, stopRun: Bool)
        async throws
    {
        try await write { context in
            try context.db.execute(
                sql: "INSERT INTO mlflow_dead_letters(tracking_uri, run_id, operation, status, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [uri, run, operation, status, reason, context.now])
            if stopRun {
                try context.db.execute(
                    sql: "UPDATE mlflow_runs SET state = 'dead' WHERE tracking_uri = ? AND run_id = ?", arguments: [uri, run])
            }
            try context.appendEvent(
                kind: EventKind.mlflowDeadLetter, message: "MLflow refused \(operation) of run \(run) (HTTP \(status)): \(reason)",
                data: ["run": .int(run), "status": .int(Int64(status))])
        }
    }

    public struct MirrorLag: Sendable, Equatable {
        public var runsPending: Int
        public var pointsPending: Int
        public var runsMirrored: Int
        public var tagsCut: Int
        public var deadLetters: [MLflowDeadLetter]
    }

    public func mirrorLag(uri: String) async throws -> MirrorLag {
        try await database.writer.read { db in
            let runs = try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM runs r LEFT JOIN mlflow_runs m ON m.run_id = r.id AND m.tracking_uri = ?
                    WHERE COALESCE(m.state, 'new') <> 'dead' AND (m.run_id IS NULL OR m.synced_version < r.version
                          OR EXISTS (SELECT 1 FROM metrics x WHERE x.run_id = r.id AND x.rowid > m.metrics_cursor))
                    """, arguments: [uri]) ?? 0
            let points = try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM metrics x LEFT JOIN mlflow_runs m ON m.run_id = x.run_id AND m.tracking_uri = ?
                    WHERE COALESCE(m.state, 'new') <> 'dead' AND x.rowid > COALESCE(m.metrics_cursor, 0)
                    """, arguments: [uri]) ?? 0
            let directions = try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM directions d LEFT JOIN mlflow_directions m ON m.direction = d.name AND m.tracking_uri = ?
                    WHERE COALESCE(m.state, 'new') <> 'dead' AND (m.direction IS NULL OR m.synced <> \(Self.directionSignature))
                    """, arguments: [uri]) ?? 0
            let cut = try Int.fetchOne(
                db,
                sql: """
                    SELECT (SELECT COALESCE(SUM(json_array_length(cut_tags)), 0) FROM mlflow_runs WHERE tracking_uri = ?)
                         + (SELECT COALESCE(SUM(json_array_length(cut_tags)), 0) FROM mlflow_directions WHERE tracking_uri = ?)
                    """, arguments: [uri, uri]) ?? 0
            let mirrored = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM mlflow_runs WHERE tracking_uri = ? AND mlflow_run_id IS NOT NULL", arguments: [uri]) ?? 0
            let letters = try Row.fetchAll(
                db,
                sql: "SELECT run_id, operation, status, reason, created_at FROM mlflow_dead_letters WHERE tracking_uri = ? ORDER BY id DESC LIMIT 50",
                arguments: [uri]
            ).map {
                MLflowDeadLetter(
                    run: $0["run_id"], operation: $0["operation"], status: $0["status"], reason: $0["reason"],
                    time: Timestamp.format($0["created_at"]))
            }
            return MirrorLag(
                runsPending: runs + directions, pointsPending: points, runsMirrored: mirrored, tagsCut: cut, deadLetters: letters)
        }
    }
}
