import Foundation
import GRDB
public import MLAgentProtocol

struct DirectionRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "directions"
    var name: String
    var job_id: Int64
    var branch: String
    var status: String
    var rationale: String
    var guidance: String
    var learnings: String?
    var started_at: Date
    var finished_at: Date?
    var submitted_run: Int64? = nil
    var overfit: Bool = false
    /// Why the submission was (or was not) flagged, and the gap it was compared with (v6-eval).
    var overfit_reason: String? = nil
    var gap_threshold: Double? = nil

    var direction: Direction {
        Direction(
            name: name, jobID: job_id, branch: branch, status: status, rationale: rationale, guidance: guidance,
            learnings: learnings, startedAt: started_at, finishedAt: finished_at, submittedRun: submitted_run,
            overfit: overfit)
    }
}

/// Something the daemon must do outside SQLite, recorded before it is done.
public struct Intent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Land `research_directions/<name>.md` on main; a final landing adds the direction's
        /// run records under `mlruns/<name>/`.
        case land
        /// Commit a finished job's worktree to its branch and remove the worktree.
        case archive
        /// Land an approved proposal of shared code under `shared/NAME/` (`payload.proposal`).
        case share
    }
    public var id: Int64
    public var kind: Kind
    public var direction: String?
    public var jobID: Int64?
    public var payload: [String: JSONValue]
}

struct IntentRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "intents"
    var id: Int64?
    var kind: String
    var direction: String?
    var job_id: Int64?
    var payload: String
    var state: String
    var commit_id: String?
    var error: String?
    var created_at: Date
    var done_at: Date?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    var intent: Intent? {
        guard let kind = Intent.Kind(rawValue: kind) else { return nil }
        let decoded = (try? JSONCoding.decoder.decode([String: JSONValue].self, from: Data(payload.utf8))) ?? [:]
        return Intent(id: id ?? 0, kind: kind, direction: direction, jobID: job_id, payload: decoded)
    }
}
