public import Foundation

/// The lifecycle of a job. `completed`, `failed` and `cancelled` are final.
public enum JobState: String, Sendable, Codable, CaseIterable, Comparable {
    case queued
    case running
    case completed
    case failed
    case cancelled
    case interrupted

    public var isFinal: Bool {
        switch self {
        case .completed, .failed, .cancelled: true
        case .queued, .running, .interrupted: false
        }
    }

    /// The transitions the queue accepts; everything else is an `invalid_state` error.
    public func canTransition(to next: JobState) -> Bool {
        switch (self, next) {
        case (.queued, .running), (.queued, .cancelled): true
        case (.running, .completed), (.running, .failed), (.running, .cancelled), (.running, .interrupted): true
        // A failed attempt that will be retried goes back to the queue.
        case (.running, .queued): true
        case (.interrupted, .queued), (.interrupted, .running), (.interrupted, .failed), (.interrupted, .cancelled): true
        default: false
        }
    }

    public static func < (lhs: JobState, rhs: JobState) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One research direction to explore, as stored in the queue and sent on the wire.
public struct Job: Sendable, Codable, Equatable, Identifiable {
    public var id: Int64
    /// The direction slug; empty when the agent picks its own direction.
    public var direction: String
    public var guidance: String
    public var agent: String
    public var priority: Int
    public var state: JobState
    public var attempts: Int
    /// Why the job is in its state (cancel reason, failure reason...), when there is one.
    public var reason: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The agent's process id while it runs.
    public var pid: Int32?
    /// The agent's git worktree while it runs.
    public var worktree: String?
    /// The agent's stdout/stderr log (`mlagentctl logs`).
    public var logPath: String?
    /// The archive of the job's worktree on its branch: `pending` until the commit is
    /// written, then `done` (or `failed`); absent for a job that never had a worktree.
    public var archive: String?
    /// Tokens and cost of the job's agent (`job.show` only), when its profile reads usage.
    public var usage: TokenUsage?
    /// What the job's agent used (`job.show` only), once the job ended.
    public var resources: AgentResources?
    /// The proposal of shared code a reviewer job reviews (absent for research jobs).
    public var reviewOf: Int64?
    /// The `main` commit the job's worktree started from.
    public var baseCommit: String?
    /// The Slurm job of a job whose profile runs on the cluster.
    public var slurm: SlurmJob?

    /// Ended, and nothing of it is still to be written to its branch.
    public var isSettled: Bool { state.isFinal && archive != "pending" }

    public init(
        id: Int64, direction: String, guidance: String, agent: String, priority: Int,
        state: JobState, attempts: Int, reason: String?, createdAt: Date, updatedAt: Date,
        startedAt: Date?, finishedAt: Date?, pid: Int32? = nil, worktree: String? = nil, logPath: String? = nil,
        archive: String? = nil, reviewOf: Int64? = nil, baseCommit: String? = nil, slurm: SlurmJob? = nil
    ) {
        self.slurm = slurm
        self.archive = archive
        self.reviewOf = reviewOf
        self.baseCommit = baseCommit
        self.id = id
        self.direction = direction
        self.guidance = guidance
        self.agent = agent
        self.priority = priority
        self.state = state
        self.attempts = attempts
        self.reason = reason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.pid = pid
        self.worktree = worktree
        self.logPath = logPath
    }

    enum CodingKeys: String, CodingKey {
        case id, direction, guidance, agent, priority, state, attempts, reason
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case pid, worktree
        case logPath = "log_path"
        case archive, usage
        case resources
        case reviewOf = "review_of"
        case baseCommit = "base_commit"
        case slurm
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(direction, forKey: .direction)
        try c.encode(guidance, forKey: .guidance)
        try c.encode(agent, forKey: .agent)
        try c.encode(priority, forKey: .priority)
        try c.encode(state, forKey: .state)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(reason, forKey: .reason)
        try c.encode(Timestamp.format(createdAt), forKey: .createdAt)
        try c.encode(Timestamp.format(updatedAt), forKey: .updatedAt)
        try c.encode(startedAt.map(Timestamp.format), forKey: .startedAt)
        try c.encode(finishedAt.map(Timestamp.format), forKey: .finishedAt)
        try c.encodeIfPresent(pid, forKey: .pid)
        try c.encodeIfPresent(worktree, forKey: .worktree)
        try c.encodeIfPresent(logPath, forKey: .logPath)
        try c.encodeIfPresent(archive, forKey: .archive)
        try c.encodeIfPresent(usage, forKey: .usage)
        try c.encodeIfPresent(resources, forKey: .resources)
        try c.encodeIfPresent(reviewOf, forKey: .reviewOf)
        try c.encodeIfPresent(baseCommit, forKey: .baseCommit)
        try c.encodeIfPresent(slurm, forKey: .slurm)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        direction = try c.decode(String.self, forKey: .direction)
        guidance = try c.decodeIfPresent(String.self, forKey: .guidance) ?? ""
        agent = try c.decodeIfPresent(String.self, forKey: .agent) ?? ""
        priority = try c.decodeIfPresent(Int.self, forKey: .priority) ?? 0
        state = try c.decode(JobState.self, forKey: .state)
        attempts = try c.decodeIfPresent(Int.self, forKey: .attempts) ?? 0
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        createdAt = try Timestamp.parse(c.decode(String.self, forKey: .createdAt))
        updatedAt = try Timestamp.parse(c.decode(String.self, forKey: .updatedAt))
        startedAt = try c.decodeIfPresent(String.self, forKey: .startedAt).map(Timestamp.parse)
        finishedAt = try c.decodeIfPresent(String.self, forKey: .finishedAt).map(Timestamp.parse)
        pid = try c.decodeIfPresent(Int32.self, forKey: .pid)
        worktree = try c.decodeIfPresent(String.self, forKey: .worktree)
        logPath = try c.decodeIfPresent(String.self, forKey: .logPath)
        archive = try c.decodeIfPresent(String.self, forKey: .archive)
        usage = try c.decodeIfPresent(TokenUsage.self, forKey: .usage)
        resources = try c.decodeIfPresent(AgentResources.self, forKey: .resources)
        reviewOf = try c.decodeIfPresent(Int64.self, forKey: .reviewOf)
        baseCommit = try c.decodeIfPresent(String.self, forKey: .baseCommit)
        slurm = try c.decodeIfPresent(SlurmJob.self, forKey: .slurm)
    }
}

/// Wire timestamps: UTC ISO 8601 with milliseconds, e.g. `2026-11-27T10:15:02.123Z`.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        var millis = Int(((interval - Double(seconds)) * 1000).rounded(.down))
        if millis >= 1000 { seconds += 1; millis -= 1000 }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    public static func parse(_ string: String) throws -> Date {
        if let date = fastParse(string) { return date }
        if let date = try? Date(string, strategy: .iso8601) {
            return date
        }
        throw RPCError(.invalidParams, "invalid timestamp \"\(string)\": expected ISO 8601 like 2026-11-27T10:15:02.123Z")
    }

    /// Parses exactly `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    private static func fastParse(_ string: String) -> Date? {
        let bytes = Array(string.utf8)
        guard bytes.count == 24, bytes[4] == 45, bytes[7] == 45, bytes[10] == 84, bytes[13] == 58, bytes[16] == 58,
            bytes[19] == 46, bytes[23] == 90
        else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for index in range {
                let digit = bytes[index] &- 48
                guard digit < 10 else { return nil }
                value = value * 10 + Int32(digit)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
            let minute = number(14..<16), let second = number(17..<19), let millis = number(20..<23)
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: Double(seconds) + Double(millis) / 1000)
    }
}
