import Foundation
import GRDB
public import MLAgentProtocol

/// Jobs on the Slurm cluster. The submission is an intent: `SUBMITTING` is recorded before
/// `sbatch` runs and Slurm's job id right after, so that a restart in between looks the job up
/// by its name instead of submitting it again.
extension Store {
    /// Marks a claimed job as submitted to Slurm from now on (before `sbatch` runs).
    public func beginSlurmSubmission(jobID: Int64) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE jobs SET executor = 'slurm', slurm_state = 'SUBMITTING', slurm_job_id = NULL, slurm_reason = NULL, slurm_node = NULL, slurm_restarts = 0 WHERE id = ?",
                arguments: [jobID])
        }
    }

    /// Records Slurm's job id for a submission.
    public func recordSlurmSubmission(jobID: Int64, slurmJobID: String) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE jobs SET slurm_job_id = ?, slurm_state = 'PENDING' WHERE id = ? AND state = 'running'",
                arguments: [slurmJobID, jobID])
            try context.appendEvent(
                kind: EventKind.slurmSubmitted, jobID: jobID,
                direction: try String.fetchOne(context.db, sql: "SELECT direction FROM jobs WHERE id = ?", arguments: [jobID]),
                message: "job \(jobID): submitted to Slurm as job \(slurmJobID)", data: ["slurm_job_id": .string(slurmJobID)])
        }
    }

    /// Records the state a poll saw, with an event when it changed: pending (and why), started
    /// (and where), preempted, requeued (a new attempt) or ended.
    public func recordSlurmState(jobID: Int64, _ slurm: SlurmJob) async throws {
        try await write { context in
            let db = context.db
            guard let record = try JobRecord.fetchOne(db, key: jobID), record.state == JobState.running.rawValue else { return }
            let previous = record.slurm_state ?? ""
            let restarted = slurm.restarts > record.slurm_restarts
            guard previous != slurm.state || restarted || (slurm.state == "PENDING" && (slurm.reason ?? "") != (record.slurm_reason ?? ""))
            else { return }
            try db.execute(
                sql: "UPDATE jobs SET slurm_state = ?, slurm_reason = ?, slurm_node = ?, slurm_restarts = ? WHERE id = ?",
                arguments: [slurm.state, slurm.reason, slurm.node, slurm.restarts, jobID])
            let id = slurm.jobID ?? "?"
            var data: [String: JSONValue] = ["slurm_job_id": .string(id), "state": .string(slurm.state)]
            let kind: String
            let message: String
            if restarted {
                try db.execute(sql: "UPDATE jobs SET attempts = attempts + 1 WHERE id = ?", arguments: [jobID])
                kind = EventKind.slurmRequeued
                data["restarts"] = .int(Int64(slurm.restarts))
                message = "job \(jobID): Slurm requeued job \(id) (restart \(slurm.restarts)); it goes on as attempt \(record.attempts + 1)"
            } else {
                switch slurm.state {
                case "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "SUSPENDED":
                    kind = EventKind.slurmPending
                    data["reason"] = .string(slurm.reason ?? "")
                    message = "job \(jobID): Slurm job \(id) is \(slurm.state)\(slurm.reason.map { " (\($0))" } ?? "")"
                case "RUNNING", "COMPLETING":
                    guard previous != "RUNNING" && previous != "COMPLETING" else { return }
                    kind = EventKind.slurmStarted
                    data["node"] = .string(slurm.node ?? "")
                    message = "job \(jobID): Slurm job \(id) runs on \(slurm.node ?? "?")"
                case "PREEMPTED":
                    kind = EventKind.slurmPreempted
                    message = "job \(jobID): Slurm job \(id) was preempted"
                default:
                    kind = EventKind.slurmEnded
                    data["reason"] = .string(slurm.reason ?? "")
                    message = "job \(jobID): Slurm job \(id) ended \(slurm.state)\(slurm.reason.map { " (\($0))" } ?? "")"
                }
            }
            try context.appendEvent(kind: kind, jobID: jobID, direction: record.direction, message: message, data: data)
        }
    }

    /// Running jobs on the cluster: on a node, and waiting (queued in Slurm or being submitted).
    public func slurmPool() async throws -> (running: Int, pending: Int) {
        try await database.writer.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT slurm_state IN ('RUNNING', 'COMPLETING'), COUNT(*) FROM jobs WHERE state = 'running' AND executor = 'slurm' GROUP BY 1")
            var pool = (running: 0, pending: 0)
            for row in rows {
                if row[0] as Bool { pool.running = row[1] } else { pool.pending = row[1] }
            }
            return pool
        }
    }
}
