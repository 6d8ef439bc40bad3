public import Foundation
import GRDB
import MLAgentProtocol

/// The parts of the MLflow mirror beyond a run's own records: the identity that keeps this
/// workspace's runs apart from any other's, the parent run of each direction, what a run's
/// system tags are made of, and the progress of its logged model, dataset inputs and cut tags.
extension Store {
    /// A random id made once per database: run ids restart in every new database, so
    /// `mlagent.run_id` is unique only together with it.
    public func mirrorWorkspaceID() async throws -> String {
        try await write { context in
            try context.db.execute(
                sql: "INSERT OR IGNORE INTO settings(key, value) VALUES ('workspace_id', ?)",
                arguments: [UUID().uuidString.lowercased()])
            return try String.fetchOne(context.db, sql: "SELECT value FROM settings WHERE key = 'workspace_id'") ?? ""
        }
    }

    /// The experiment a database that mirrored runs before per-workspace experiments keeps
    /// using when `[mlflow] experiment` is empty (its runs are there), or nil.
    public func mirrorInheritedExperiment() async throws -> String? {
        try await database.writer.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'mlflow_experiment'")
        }
    }

    /// What the parent run of a direction shows; `signature` changes whenever it must be sent again.
    public struct MirrorDirection: Sendable, Equatable {
        public var name: String
        public var branch: String
        public var status: String
        public var rationale: String
        public var guidance: String
        public var learnings: String?
        public var startedAt: Date
        public var finishedAt: Date?
        public var agent: String
        /// The commit of the direction's job archive on its branch, once written.
        public var commit: String?
        public var mlflowRunID: String?
        /// `new`, `creating`, `created` or `dead`.
        public var state: String
        public var synced: String
        public var signature: String
    }

    /// Everything that a direction's parent run shows, as one comparable text.
    static let directionSignature = """
        (d.status || '|' || COALESCE(d.finished_at, '') || '|' || COALESCE(d.submitted_run, '') || '|' || d.overfit
         || '|' || COALESCE((SELECT MAX(i.id) FROM intents i WHERE i.kind = 'archive' AND i.job_id = d.job_id AND i.state = 'done'), '')
         || '|' || d.rationale || '|' || COALESCE(d.learnings, ''))
        """

    /// Directions whose parent run in `uri` is missing or out of date (never dead ones).
    public func mirrorDirectionsPending(uri: String) async throws -> [MirrorDirection] {
        try await database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.name, d.branch, d.status, d.rationale, d.guidance, d.learnings, d.started_at, d.finished_at,
                           j.agent, m.mlflow_run_id, COALESCE(m.state, 'new') AS state, COALESCE(m.synced, '') AS synced,
                           \(Self.directionSignature) AS signature,
                           (SELECT i.commit_id FROM intents i WHERE i.kind = 'archive' AND i.job_id = d.job_id
                              AND i.state = 'done' AND i.commit_id IS NOT NULL ORDER BY i.id DESC LIMIT 1) AS commit_id
                    FROM directions d JOIN jobs j ON j.id = d.job_id
                    LEFT JOIN mlflow_directions m ON m.direction = d.name AND m.tracking_uri = ?
                    WHERE COALESCE(m.state, 'new') <> 'dead' AND (m.direction IS NULL OR m.synced <> \(Self.directionSignature))
                    ORDER BY d.started_at, d.name
                    """, arguments: [uri]
            ).map {
                MirrorDirection(
                    name: $0["name"], branch: $0["branch"], status: $0["status"], rationale: $0["rationale"],
                    guidance: $0["guidance"], learnings: $0["learnings"], startedAt: $0["started_at"], finishedAt: $0["finished_at"],
                    agent: $0["agent"], commit: $0["commit_id"], mlflowRunID: $0["mlflow_run_id"], state: $0["state"],
                    synced: $0["synced"], signature: $0["signature"])
            }
        }
    }

    /// The parent run of `direction` in `uri`, if it was created.
    public func mirrorParentRun(uri: String, direction: String) async throws -> String? {
        try await database.writer.read { db in
            try String.fetchOne(
                db, sql: "SELECT mlflow_run_id FROM mlflow_directions WHERE tracking_uri = ? AND direction = ? AND state = 'created'",
                arguments: [uri, direction])
        }
    }

    /// Recorded before `runs/create` of a parent run, so an unclear outcome is looked up.
    public func mirrorDirectionCreating(uri: String, direction: String) async throws {
        try await write { context in
            try context.db.execute(
                sql: "INSERT OR IGNORE INTO mlflow_directions(tracking_uri, direction, state) VALUES (?, ?, 'creating')",
                arguments: [uri, direction])
        }
    }

    public func mirrorDirectionCreated(uri: String, direction: String, mlflowRunID: String) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE mlflow_directions SET mlflow_run_id = ?, state = 'created' WHERE tracking_uri = ? AND direction = ?",
                arguments: [mlflowRunID, uri, direction])
        }
    }

    /// `dead` after a permanent refusal of the create (the runs then go unnested).
    public func mirrorDirectionSynced(uri: String, direction: String, signature: String, cutTags: [String] = [], dead: Bool = false)
        async throws
    {
        let json = String(decoding: try JSONCoding.encoder.encode(cutTags.sorted()), as: UTF8.self)
        try await write { context in
            try context.db.execute(
                sql: "INSERT OR IGNORE INTO mlflow_directions(tracking_uri, direction, state) VALUES (?, ?, 'creating')",
                arguments: [uri, direction])
            try context.db.execute(
                sql: """
                    UPDATE mlflow_directions SET synced = ?, cut_tags = ?, state = CASE WHEN ? THEN 'dead' ELSE state END
                    WHERE tracking_uri = ? AND direction = ?
                    """,
                arguments: [signature, json, dead, uri, direction])
        }
    }

    /// What a run's MLflow system tags are made of.
    public struct MirrorRunContext: Sendable, Equatable {
        /// The agent profile of the run's job.
        public var agent: String
        public var directionRationale: String
        /// The job's archive commit on the direction's branch: the code the run came from.
        public var commit: String?
    }

    public func mirrorRunContext(run: Int64) async throws -> MirrorRunContext {
        try await database.writer.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT j.agent, d.rationale,
                           (SELECT i.commit_id FROM intents i WHERE i.kind = 'archive' AND i.job_id = r.job_id AND i.state = 'done'
                              AND i.commit_id IS NOT NULL AND i.created_at >= r.started_at ORDER BY i.id LIMIT 1) AS commit_id
                    FROM runs r JOIN jobs j ON j.id = r.job_id JOIN directions d ON d.name = r.direction WHERE r.id = ?
                    """, arguments: [run])
            return MirrorRunContext(agent: row?["agent"] ?? "", directionRationale: row?["rationale"] ?? "", commit: row?["commit_id"])
        }
    }

    /// The logged model's progress: `creating` (before the request), then `created` with its
    /// id, then `ready` once its files are uploaded and it is finalized.
    public func mirrorModel(uri: String, run: Int64, modelID: String?, state: String) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE mlflow_runs SET model_id = COALESCE(?, model_id), model_state = ? WHERE tracking_uri = ? AND run_id = ?",
                arguments: [modelID, state, uri, run])
        }
    }

    public func mirrorInputsLogged(uri: String, run: Int64) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE mlflow_runs SET inputs_logged = 1 WHERE tracking_uri = ? AND run_id = ?", arguments: [uri, run])
        }
    }

    public func mirrorCutTags(uri: String, run: Int64, keys: [String]) async throws {
        let json = String(decoding: try JSONCoding.encoder.encode(keys.sorted()), as: UTF8.self)
        try await write { context in
            try context.db.execute(
                sql: "UPDATE mlflow_runs SET cut_tags = ? WHERE tracking_uri = ? AND run_id = ?", arguments: [json, uri, run])
        }
    }
}
