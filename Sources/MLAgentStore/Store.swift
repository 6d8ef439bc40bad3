import Foundation
import GRDB
public import MLAgentProtocol

/// The daemon's durable state: the job queue, the event log and settings.
///
/// Writes go through the group-commit `WriteBatcher`; reads use the pool's concurrent readers.
/// Errors are `RPCError`s whose messages are fit to show an operator.
public final class Store: Sendable {
    public let database: AppDatabase
    private let batcher: WriteBatcher
    let cache: StoreCache

    /// - Parameter onCommit: called after each committed transaction with its events, in
    ///   `seq` order, before any caller of that transaction is resumed.
    public init(database: AppDatabase, onCommit: @escaping @Sendable ([Event]) -> Void = { _ in }) throws {
        self.database = database
        let cache = try StoreCache(reader: database.writer)
        self.cache = cache
        self.batcher = WriteBatcher(writer: database.writer) { events in
            cache.apply(events)
            onCommit(events)
        }
    }

    /// Runs `operation` inside the next group-commit transaction.
    public func write<T: Sendable>(_ operation: @escaping @Sendable (WriteContext) throws -> T) async throws -> T {
        try await batcher.submit(operation)
    }

    /// Number of SQLite transactions committed by the batcher (for benchmarks and tests).
    public func committedTransactions() async -> Int {
        await batcher.transactions
    }

    // MARK: Jobs

    public struct EnqueueRequest: Sendable {
        public var direction: String
        public var guidance: String
        public var agent: String
        public var priority: Int
        public init(direction: String, guidance: String, agent: String, priority: Int) {
            self.direction = direction
            self.guidance = guidance
            self.agent = agent
            self.priority = priority
        }
    }

    public func enqueue(_ request: EnqueueRequest) async throws -> Job {
        try await write { context in try Self.enqueue(request, in: context) }
    }

    static func enqueue(_ request: EnqueueRequest, in context: WriteContext) throws -> Job {
        let db = context.db
        if !request.direction.isEmpty,
            // `direction <> ''` lets SQLite use the partial unique index instead of a scan.
            let existing = try JobRecord.filter(sql: "direction = ? AND direction <> ''", arguments: [request.direction]).fetchOne(db)
        {
            throw RPCError(
                .conflict,
                "direction \"\(request.direction)\" is already used by job \(existing.id ?? 0) (\(existing.state)); a direction name is used once per workspace, so pick another name",
                context: ["direction": .string(request.direction), "job_id": .int(existing.id ?? 0)])
        }
        var record = JobRecord(
            id: nil, direction: request.direction, guidance: request.guidance, agent: request.agent,
            priority: request.priority, state: JobState.queued.rawValue, attempts: 0, reason: nil,
            created_at: context.now, updated_at: context.now, started_at: nil, finished_at: nil)
        try record.insert(db)
        let job = record.job
        let what = job.direction.isEmpty ? "an agent-picked direction" : "direction \(job.direction)"
        try context.appendEvent(
            kind: EventKind.jobEnqueued, jobID: job.id, direction: job.direction,
            message: "job \(job.id) enqueued: \(what) (agent \(job.agent), priority \(job.priority))",
            data: ["state": .string(job.state.rawValue), "agent": .string(job.agent), "priority": .int(Int64(job.priority))])
        return job
    }

    /// Moves a job to `state`, enforcing the state machine, and records a `job.state` event.
    public func transition(id: Int64, to state: JobState, reason: String? = nil) async throws -> Job {
        try await write { context in try Self.transition(id: id, to: state, reason: reason, in: context) }
    }

    @discardableResult
    public static func transition(id: Int64, to state: JobState, reason: String?, in context: WriteContext) throws -> Job {
        let db = context.db
        guard var record = try JobRecord.fetchOne(db, key: id) else {
            throw notFound(id)
        }
        let current = JobState(rawValue: record.state) ?? .failed
        guard current.canTransition(to: state) else {
            throw RPCError(
                .invalidState,
                "job \(id) is \(current.rawValue) and cannot become \(state.rawValue)",
                context: ["job_id": .int(id), "state": .string(current.rawValue)])
        }
        record.state = state.rawValue
        record.reason = reason
        record.updated_at = context.now
        if state == .running {
            record.started_at = context.now
            record.attempts += 1
        }
        if state.isFinal { record.finished_at = context.now }
        try record.update(db)
        let job = record.job
        var message = "job \(id) \(current.rawValue) → \(state.rawValue)"
        if let reason, !reason.isEmpty { message += ": \(reason)" }
        var data: [String: JSONValue] = ["from": .string(current.rawValue), "to": .string(state.rawValue)]
        if let reason { data["reason"] = .string(reason) }
        try context.appendEvent(kind: EventKind.jobState, jobID: id, direction: job.direction, message: message, data: data)
        return job
    }

    public func cancel(id: Int64, reason: String?) async throws -> Job {
        try await write { context in
            guard let record = try JobRecord.fetchOne(context.db, key: id) else { throw Self.notFound(id) }
            let state = JobState(rawValue: record.state) ?? .failed
            if state.isFinal {
                throw RPCError(
                    .invalidState, "job \(id) is already \(state.rawValue); only queued, running or interrupted jobs can be cancelled",
                    context: ["job_id": .int(id), "state": .string(state.rawValue)])
            }
            return try Self.transition(id: id, to: .cancelled, reason: reason ?? "cancelled by operator", in: context)
        }
    }

    public func job(id: Int64) async throws -> Job {
        let record = try await database.writer.read { db in try JobRecord.fetchOne(db, key: id) }
        guard let record else { throw Self.notFound(id) }
        return record.job
    }

    /// Jobs in queue order for `queued` (priority, then FIFO) and newest first otherwise.
    public func jobs(state: JobState? = nil, limit: Int? = nil) async throws -> [Job] {
        try await database.writer.read { db in
            var request = JobRecord.all()
            if let state {
                request = request.filter(Column("state") == state.rawValue)
            }
            if state == .queued {
                request = request.order(Column("priority").desc, Column("id"))
            } else {
                request = request.order(Column("id"))
            }
            if let limit { request = request.limit(limit) }
            return try request.fetchAll(db).map(\.job)
        }
    }

    /// Count of jobs per state, with every state present (from the in-memory cache).
    public func counts() -> [JobState: Int] {
        cache.snapshot.counts
    }

    /// Counts, last seq and pause flag read together.
    public func snapshot() -> (counts: [JobState: Int], lastSeq: Int64, paused: Bool) {
        let snapshot = cache.snapshot
        return (snapshot.counts, snapshot.lastSeq, snapshot.paused)
    }

    /// Counts recomputed from SQLite (the cache's source, for tests and checks).
    public func countsFromDatabase() async throws -> [JobState: Int] {
        try await database.writer.read { db in
            var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
            let rows = try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            for row in rows {
                if let state = JobState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    static func notFound(_ id: Int64) -> RPCError {
        RPCError(
            .notFound, "no job with id \(id); `mlagentctl list` shows the jobs", context: ["job_id": .int(id)])
    }

    // MARK: Events

    public func events(since: Int64 = 0, job: Int64? = nil, limit: Int = 1000) async throws -> [Event] {
        try await database.writer.read { db in
            var request = EventRecord.filter(Column("seq") > since)
            if let job { request = request.filter(Column("job_id") == job) }
            return try request.order(Column("seq")).limit(limit).fetchAll(db).map(\.event)
        }
    }

    /// The highest committed event `seq`.
    public func lastSeq() -> Int64 {
        cache.snapshot.lastSeq
    }

    /// Appends a standalone event (daemon start/stop and the like).
    @discardableResult
    public func record(kind: String, jobID: Int64? = nil, message: String, data: [String: JSONValue] = [:]) async throws -> Event {
        try await write { context in try context.appendEvent(kind: kind, jobID: jobID, message: message, data: data) }
    }

    // MARK: Settings

    public func isPaused() -> Bool {
        cache.snapshot.paused
    }

    /// Stores the pause flag; records an event only when it changes.
    public func setPaused(_ paused: Bool) async throws -> Bool {
        try await write { context in
            let db = context.db
            let current = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'paused'") == "true"
            guard current != paused else { return paused }
            try db.execute(
                sql: "INSERT INTO settings(key, value) VALUES ('paused', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [paused ? "true" : "false"])
            try context.appendEvent(
                kind: paused ? EventKind.queuePaused : EventKind.queueResumed,
                message: paused ? "queue paused: no new jobs will be launched" : "queue resumed: jobs will be launched again")
            return paused
        }
    }

    /// Checkpoints the WAL into the main database file (used at shutdown).
    public func checkpoint() throws {
        if let pool = database.writer as? DatabasePool {
            try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        }
    }
}
