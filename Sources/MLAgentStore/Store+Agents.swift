import Foundation
import GRDB
public import MLAgentProtocol

/// Queue operations of the scheduler and the agent-facing protocol: launching, declaring and
/// finishing directions, ending jobs, and the intents that make git follow SQLite.
extension Store {
    /// What the scheduler needs to start an agent.
    public struct LaunchTicket: Sendable {
        public var job: Job
        public var token: String
        /// The direction file to land at start (nil when the agent picks its direction).
        public var landIntent: Int64?
    }

    /// Picks the next queued job (priority, then FIFO) when the queue is not paused and fewer
    /// than `maxRunning` jobs run, and marks it running with a fresh token, in one transaction.
    /// Jobs of the profiles in `excluding` (those whose pool is full) are left in the queue.
    public func claimNextJob(
        maxRunning: Int, excluding: Set<String> = [], worktree: @escaping @Sendable (Job) -> String,
        logPath: @escaping @Sendable (Job) -> String
    ) async throws -> LaunchTicket? {
        try await write { context in
            let db = context.db
            if try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'paused'") == "true" { return nil }
            let running = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE state = 'running'") ?? 0
            guard running < maxRunning else { return nil }
            var queued = JobRecord.filter(Column("state") == JobState.queued.rawValue)
            if !excluding.isEmpty { queued = queued.filter(!Array(excluding).contains(Column("agent"))) }
            guard let next = try queued.order(Column("priority").desc, Column("id")).fetchOne(db) else { return nil }
            let id = next.id!
            let token = Self.makeToken()
            try Self.transition(id: id, to: .running, reason: nil, in: context)
            var record = try JobRecord.fetchOne(db, key: id)!
            record.token = token
            record.worktree = worktree(record.job)
            record.log_path = logPath(record.job)
            record.pid = nil
            record.finished_direction = false
            try record.update(db)
            var intent: Int64?
            if !record.direction.isEmpty {
                intent = try Self.startDirection(
                    name: record.direction, jobID: id, rationale: "", guidance: record.guidance, in: context)
            }
            return LaunchTicket(job: record.job, token: token, landIntent: intent)
        }
    }

    /// Records the agent's process id.
    public func recordProcess(jobID: Int64, pid: Int32) async throws {
        try await write { context in
            try context.db.execute(sql: "UPDATE jobs SET pid = ? WHERE id = ?", arguments: [pid, jobID])
            try context.appendEvent(
                kind: EventKind.agentStarted, jobID: jobID,
                direction: try String.fetchOne(context.db, sql: "SELECT direction FROM jobs WHERE id = ?", arguments: [jobID]),
                message: "job \(jobID): agent started (pid \(pid))", data: ["pid": .int(Int64(pid))])
        }
    }

    /// The running job a token belongs to.
    public func job(token: String) async throws -> Job? {
        try await database.writer.read { db in
            try JobRecord.filter(Column("token") == token).filter(Column("state") == JobState.running.rawValue)
                .fetchOne(db)?.job
        }
    }

    /// Jobs recorded as running (for restart reconciliation), with their tokens.
    public func runningJobs() async throws -> [(job: Job, token: String?)] {
        try await database.writer.read { db in
            try JobRecord.filter(Column("state") == JobState.running.rawValue).order(Column("id")).fetchAll(db)
                .map { ($0.job, $0.token) }
        }
    }

    /// An agent names the direction it picked. The name must be unused in this workspace.
    public func declare(jobID: Int64, name: String, rationale: String) async throws -> (Direction, Int64) {
        try await write { context in
            let db = context.db
            guard let job = try JobRecord.fetchOne(db, key: jobID), job.state == JobState.running.rawValue else {
                throw RPCError(.invalidState, "job \(jobID) is not running; its token no longer grants anything")
            }
            if let proposal = job.review_of {
                throw RPCError(
                    .invalidState,
                    "job \(jobID) reviews proposal \(proposal) and declares no direction; give the verdict with `mlagentctl share review \(proposal) --approve|--reject --reason TEXT`")
            }
            if !job.direction.isEmpty {
                throw RPCError(
                    .invalidState,
                    "job \(jobID) already works on direction \"\(job.direction)\"; declare is only for jobs whose agent picks the direction",
                    context: ["direction": .string(job.direction)])
            }
            if let other = try JobRecord.filter(sql: "direction = ? AND direction <> ''", arguments: [name]).fetchOne(db) {
                throw RPCError(
                    .conflict,
                    "direction \"\(name)\" is already used in this workspace (job \(other.id ?? 0)); read research_directions/ and pick a name not used yet",
                    context: ["direction": .string(name)])
            }
            try db.execute(sql: "UPDATE jobs SET direction = ?, updated_at = ? WHERE id = ?", arguments: [name, context.now, jobID])
            let intent = try Self.startDirection(name: name, jobID: jobID, rationale: rationale, guidance: job.guidance, in: context)
            let direction = try DirectionRecord.fetchOne(db, key: name)!.direction
            try context.appendEvent(
                kind: EventKind.directionDeclared, jobID: jobID, direction: name,
                message: "job \(jobID) declared direction \(name): \(rationale)", data: ["rationale": .string(rationale)])
            return (direction, intent)
        }
    }

    /// Creates (or, on a retry, keeps) the direction row and records the intent to land its
    /// `in_progress` file. Returns the intent id.
    static func startDirection(name: String, jobID: Int64, rationale: String, guidance: String, in context: WriteContext)
        throws -> Int64
    {
        let db = context.db
        if var existing = try DirectionRecord.fetchOne(db, key: name) {
            existing.job_id = jobID
            existing.status = "in_progress"
            if !rationale.isEmpty { existing.rationale = rationale }
            try existing.update(db)
        } else {
            try DirectionRecord(
                name: name, job_id: jobID, branch: "exp/\(name)", status: "in_progress", rationale: rationale,
                guidance: guidance, learnings: nil, started_at: context.now, finished_at: nil
            ).insert(db)
        }
        return try addIntent(.land, direction: name, jobID: jobID, payload: ["final": false], in: context)
    }

    /// The agent ends its direction with its learnings; the job completes when the agent exits.
    public func finishDirection(jobID: Int64, learnings: String) async throws -> (Direction, Int64) {
        try await write { context in
            let db = context.db
            guard let job = try JobRecord.fetchOne(db, key: jobID), job.state == JobState.running.rawValue else {
                throw RPCError(.invalidState, "job \(jobID) is not running")
            }
            guard !job.direction.isEmpty, var direction = try DirectionRecord.fetchOne(db, key: job.direction) else {
                throw RPCError(
                    .invalidState, "job \(jobID) has no direction yet; declare one first (mlagentctl direction declare NAME --rationale TEXT)")
            }
            guard direction.status == "in_progress" else {
                throw RPCError(
                    .invalidState,
                    "direction \(direction.name) is already \(direction.status); a direction finishes once, so exit now")
            }
            if direction.submitted_run == nil,
                let candidate = try Int64.fetchOne(
                    db, sql: "SELECT id FROM runs WHERE direction = ? AND status = 'finished' AND has_model ORDER BY id LIMIT 1",
                    arguments: [direction.name])
            {
                throw RPCError(
                    .invalidState,
                    "direction \(direction.name) has finished runs with a model (run \(candidate) and maybe others) but no submission: submit the best one first (mlagentctl submit RUN), then finish",
                    context: ["run": .int(candidate)])
            }
            try Self.failOpenRuns(jobID: jobID, why: "the direction finished while this run was still running", in: context)
            direction.status = "completed"
            direction.learnings = learnings
            direction.finished_at = context.now
            try direction.update(db)
            try db.execute(sql: "UPDATE jobs SET finished_direction = 1 WHERE id = ?", arguments: [jobID])
            let intent = try Self.addIntent(.land, direction: direction.name, jobID: jobID, payload: ["final": true], in: context)
            try context.appendEvent(
                kind: EventKind.directionFinished, jobID: jobID, direction: direction.name,
                message: "job \(jobID) finished direction \(direction.name)")
            return (direction.direction, intent)
        }
    }

    /// How a running job ended.
    public enum Ending: Sendable {
        /// The agent exited; `finished` tells whether it finished its direction.
        case exited(status: String, logTail: String)
        case cancelled(reason: String)
        case timedOut(reason: String)
        case stalled(reason: String)
        /// The daemon found the agent gone after a restart.
        case vanished
    }

    /// Ends a running job: completed when its direction was finished, else failed (or
    /// re-queued while attempts remain). A direction left unfinished still lands, marked
    /// failed or abandoned. Records the intent to archive the worktree. Returns the job.
    public func endJob(id: Int64, ending: Ending, maxAttempts: Int) async throws -> Job {
        try await write { context in
            let db = context.db
            guard let record = try JobRecord.fetchOne(db, key: id), record.state == JobState.running.rawValue else {
                throw RPCError(.invalidState, "job \(id) is not running")
            }
            var next: JobState
            var reason: String
            switch ending {
            case .exited(let status, let tail):
                let task = record.review_of.map { "giving its verdict on proposal \($0)" } ?? "finishing its direction"
                if record.finished_direction {
                    next = .completed
                    reason = record.review_of == nil ? "agent finished its direction and exited (\(status))" : "reviewer gave its verdict and exited (\(status))"
                } else {
                    next = record.attempts < maxAttempts ? .queued : .failed
                    reason = "agent \(status) without \(task)"
                    if !tail.isEmpty { reason += "; last log lines:\n" + tail }
                }
            case .cancelled(let why):
                next = .cancelled
                reason = why
            case .timedOut(let why), .stalled(let why):
                next = record.attempts < maxAttempts ? .queued : .failed
                reason = why
            case .vanished:
                next = record.attempts < maxAttempts ? .queued : .interrupted
                reason = "the agent was gone when the daemon restarted"
            }
            // A direction the agent finished is done, however the process ended afterwards.
            if record.finished_direction, next != .cancelled, next != .completed {
                next = .completed
                reason = "agent finished its direction; " + reason
            }
            try Self.failOpenRuns(jobID: id, why: "the agent's job ended (\(next.rawValue)) before the run was ended", in: context)
            // The direction landed when the agent finished it, and its CLI went on (Claude Code
            // prints its last turn and its own cost when the session ends): the job's usage is
            // final now (read to the end of the log before the job ends), so the file lands
            // again if it shows other figures, before the archive (`wait` sees it on main).
            if record.finished_direction, !record.direction.isEmpty,
                try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM job_usage WHERE job_id = ?)", arguments: [id]) == true
            {
                _ = try Self.addIntent(
                    .land, direction: record.direction, jobID: id, payload: ["final": true, "final_cost": true], in: context)
            }
            if let worktree = record.worktree {
                _ = try Self.addIntent(
                    .archive, direction: record.direction.isEmpty ? nil : record.direction, jobID: id,
                    payload: [
                        "worktree": .string(worktree),
                        "fallback_branch": .string("exp/job-\(id)"),
                        "message": .string("Archive of job \(id) (attempt \(record.attempts)): \(next.rawValue)"),
                    ], in: context)
            }
            if !record.direction.isEmpty, next != .queued, var direction = try DirectionRecord.fetchOne(db, key: record.direction),
                direction.status == "in_progress"
            {
                direction.status = next == .cancelled ? "abandoned" : "failed"
                direction.finished_at = context.now
                try direction.update(db)
                _ = try Self.addIntent(.land, direction: direction.name, jobID: id, payload: ["final": true], in: context)
            }
            try db.execute(
                sql: "UPDATE jobs SET token = NULL, pid = NULL, worktree = NULL, archive_state = ? WHERE id = ?",
                arguments: [record.worktree == nil ? record.archive_state : "pending", id])
            return try Self.transition(id: id, to: next, reason: reason, in: context)
        }
    }

    // MARK: Intents

    static func addIntent(
        _ kind: Intent.Kind, direction: String?, jobID: Int64?, payload: [String: JSONValue], in context: WriteContext
    ) throws -> Int64 {
        var record = IntentRecord(
            id: nil, kind: kind.rawValue, direction: direction, job_id: jobID,
            payload: String(decoding: try JSONCoding.encoder.encode(payload), as: UTF8.self), state: "pending",
            commit_id: nil, error: nil, created_at: context.now, done_at: nil)
        try record.insert(context.db)
        return record.id!
    }

    public func pendingIntents() async throws -> [Intent] {
        try await database.writer.read { db in
            try IntentRecord.filter(Column("state") == "pending").order(Column("id")).fetchAll(db).compactMap(\.intent)
        }
    }

    /// Marks an intent carried out, with the commit it produced, and records an event.
    public func completeIntent(_ intent: Intent, commit: String?) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE intents SET state = 'done', commit_id = ?, done_at = ? WHERE id = ? AND state = 'pending'",
                arguments: [commit, context.now, intent.id])
            guard context.db.changesCount > 0 else { return }
            switch intent.kind {
            case .land:
                // A final-cost landing whose file main already showed lands nothing.
                if commit == nil, intent.payload["final_cost"] == .bool(true) { return }
                try context.appendEvent(
                    kind: EventKind.directionLanded, jobID: intent.jobID, direction: intent.direction,
                    message: "landed research_directions/\(intent.direction ?? "?").md on main (\(commit?.prefix(10) ?? "-"))",
                    data: ["commit": commit.map { .string($0) } ?? .null, "intent": .int(intent.id)])
            case .archive:
                if let job = intent.jobID {
                    try context.db.execute(sql: "UPDATE jobs SET archive_state = 'done' WHERE id = ?", arguments: [job])
                }
                try context.appendEvent(
                    kind: EventKind.jobArchived, jobID: intent.jobID, direction: intent.direction,
                    message: "job \(intent.jobID ?? 0): worktree archived (\(commit?.prefix(10) ?? "-")) and removed",
                    data: ["commit": commit.map { .string($0) } ?? .null])
            case .share:
                // Recorded by ``completeShareLanding(intent:id:commit:)``; a replay only ends the intent.
                break
            }
        }
    }

    public func failIntent(_ intent: Intent, error: String) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE intents SET state = 'failed', error = ?, done_at = ? WHERE id = ?",
                arguments: [error, context.now, intent.id])
            if intent.kind == .archive, let job = intent.jobID {
                try context.db.execute(sql: "UPDATE jobs SET archive_state = 'failed' WHERE id = ?", arguments: [job])
            }
            try context.appendEvent(
                kind: EventKind.intentFailed, jobID: intent.jobID, direction: intent.direction,
                message: "could not carry out \(intent.kind.rawValue) #\(intent.id): \(error)")
        }
    }

    // MARK: Directions

    public func direction(named name: String) async throws -> Direction? {
        try await database.writer.read { db in try DirectionRecord.fetchOne(db, key: name)?.direction }
    }

    public func directions() async throws -> [Direction] {
        try await database.writer.read { db in
            try DirectionRecord.order(Column("started_at")).fetchAll(db).map(\.direction)
        }
    }

    static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }
}
