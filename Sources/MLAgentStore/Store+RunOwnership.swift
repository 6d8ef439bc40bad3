import Foundation
import GRDB
import GRDBSQLite
import MLAgentProtocol

/// Which job may touch which run: a token reaches only the runs of its own direction.
extension Store {
    /// The running job and its in-progress direction.
    static func activeDirection(jobID: Int64, in db: Database) throws -> (JobRecord, DirectionRecord) {
        guard let job = try JobRecord.fetchOne(db, key: jobID), job.state == JobState.running.rawValue else {
            throw RPCError(.invalidState, "job \(jobID) is not running; its token no longer grants anything")
        }
        guard !job.direction.isEmpty, let direction = try DirectionRecord.fetchOne(db, key: job.direction) else {
            throw RPCError(
                .invalidState,
                "job \(jobID) has no direction yet; declare one first (mlagentctl direction declare NAME --rationale TEXT)")
        }
        guard direction.status == "in_progress" else {
            throw RPCError(
                .invalidState, "direction \(direction.name) is \(direction.status); runs are recorded while it is in progress")
        }
        return (job, direction)
    }

    /// The run, if it belongs to the direction of the calling job.
    static func ownedRun(_ runID: Int64, jobID: Int64, in db: Database) throws -> RunRecord {
        guard let job = try JobRecord.fetchOne(db, key: jobID), job.state == JobState.running.rawValue else {
            throw RPCError(.invalidState, "job \(jobID) is not running; its token no longer grants anything")
        }
        guard let run = try RunRecord.fetchOne(db, key: runID) else {
            throw RPCError(
                .notFound, "no run with id \(runID); `mlagentctl runs` lists the runs", context: ["run": .int(runID)])
        }
        guard run.direction == job.direction else {
            throw RPCError(
                .forbidden,
                "run \(runID) belongs to direction \(run.direction); a job's token reaches only the runs of its own direction (\(job.direction.isEmpty ? "none declared yet" : job.direction))",
                context: ["run": .int(runID), "direction": .string(run.direction)])
        }
        return run
    }

    static func requireRunning(_ run: RunRecord, for what: String) throws {
        guard run.status == RunStatus.running.rawValue else {
            throw RPCError(
                .invalidState, "run \(run.id ?? 0) is \(run.status); \(what) while a run is running",
                context: ["run": .int(run.id ?? 0), "status": .string(run.status)])
        }
    }
}
