import GRDB
import MLAgentProtocol

extension Store {
    /// The artifact store's totals (no SQL: a fold over committed events).
    public func artifactTotals() -> ArtifactQuota.Cap {
        let snapshot = cache.snapshot
        return .init(bytes: snapshot.artifactBytes, files: snapshot.artifactFiles)
    }

    /// What the job and direction of `run` (owned by `jobID`) have stored, and the store in all.
    public func artifactUsage(jobID: Int64, run runID: Int64) async throws -> ArtifactQuota.Used {
        try await database.writer.read { db in
            let run = try Self.ownedRun(runID, jobID: jobID, in: db)
            return try Self.artifactUsage(jobID: jobID, direction: run.direction, in: db)
        }
    }

    static func artifactUsage(jobID: Int64, direction: String, in db: Database) throws -> ArtifactQuota.Used {
        func sum(_ filter: String, _ arguments: StatementArguments) throws -> ArtifactQuota.Cap {
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(a.bytes), 0) AS bytes, COALESCE(SUM(a.files), 0) AS files
                    FROM artifacts a JOIN runs r ON r.id = a.run_id \(filter)
                    """, arguments: arguments)
            return .init(bytes: row?["bytes"] ?? 0, files: row?["files"] ?? 0)
        }
        return ArtifactQuota.Used(
            job: try sum("WHERE r.job_id = ?", [jobID]), direction: try sum("WHERE r.direction = ?", [direction]),
            store: try sum("", []))
    }
}
