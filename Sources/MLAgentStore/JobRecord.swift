import Foundation
import GRDB
import MLAgentProtocol

/// The `jobs` row.
struct JobRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "jobs"

    var id: Int64?
    var direction: String
    var guidance: String
    var agent: String
    var priority: Int
    var state: String
    var attempts: Int
    var reason: String?
    var created_at: Date
    var updated_at: Date
    var started_at: Date?
    var finished_at: Date?
    var token: String? = nil
    var pid: Int32? = nil
    var worktree: String? = nil
    var log_path: String? = nil
    var last_seen_at: Date? = nil
    var finished_direction: Bool = false
    /// `pending` while the worktree's archive commit is still to be written, then `done` (or
    /// `failed`); nil for a job that never had a worktree.
    var archive_state: String? = nil
    /// The proposal a reviewer job reviews (nil for research jobs).
    var review_of: Int64? = nil
    /// The `main` commit the job's worktree started from.
    var base_commit: String? = nil
    /// `local` or `slurm`, and a Slurm job's id, state, reason, node and restarts.
    var executor: String = "local"
    var slurm_job_id: String? = nil
    var slurm_state: String? = nil
    var slurm_reason: String? = nil
    var slurm_node: String? = nil
    var slurm_restarts: Int = 0

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    var job: Job {
        Job(
            id: id ?? 0, direction: direction, guidance: guidance, agent: agent, priority: priority,
            state: JobState(rawValue: state) ?? .failed, attempts: attempts, reason: reason,
            createdAt: created_at, updatedAt: updated_at, startedAt: started_at, finishedAt: finished_at,
            pid: pid, worktree: worktree, logPath: log_path, archive: archive_state, reviewOf: review_of,
            baseCommit: base_commit,
            slurm: executor == "slurm"
                ? SlurmJob(
                    jobID: slurm_job_id, state: slurm_state ?? "SUBMITTING", reason: slurm_reason, node: slurm_node,
                    restarts: slurm_restarts)
                : nil)
    }
}

/// The `events` row.
struct EventRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "events"

    var seq: Int64?
    var time: Date
    var kind: String
    var job_id: Int64?
    var direction: String?
    var message: String
    var data: String

    mutating func didInsert(_ inserted: InsertionSuccess) {
        seq = inserted.rowID
    }

    var event: Event {
        let decoded = (try? JSONCoding.decoder.decode([String: JSONValue].self, from: Data(data.utf8))) ?? [:]
        return Event(
            seq: seq ?? 0, time: time, kind: kind, jobID: job_id, direction: direction, message: message,
            data: decoded)
    }
}
