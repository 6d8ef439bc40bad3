public import Foundation

/// One entry of the daemon's event log. `seq` is assigned by SQLite, strictly increasing,
/// and stored in the same transaction as the change it describes.
public struct Event: Sendable, Codable, Equatable {
    public var seq: Int64
    public var time: Date
    /// A dotted kind such as `job.enqueued`, `job.state`, `queue.paused`, `daemon.started`.
    public var kind: String
    public var jobID: Int64?
    public var direction: String?
    /// A one-line human summary.
    public var message: String
    /// Structured details; shape depends on `kind`.
    public var data: [String: JSONValue]

    public init(
        seq: Int64, time: Date, kind: String, jobID: Int64?, direction: String?, message: String,
        data: [String: JSONValue]
    ) {
        self.seq = seq
        self.time = time
        self.kind = kind
        self.jobID = jobID
        self.direction = direction
        self.message = message
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case seq, time, kind, direction, message, data
        case jobID = "job_id"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seq, forKey: .seq)
        try c.encode(Timestamp.format(time), forKey: .time)
        try c.encode(kind, forKey: .kind)
        try c.encode(jobID, forKey: .jobID)
        try c.encode(direction, forKey: .direction)
        try c.encode(message, forKey: .message)
        try c.encode(data, forKey: .data)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        seq = try c.decode(Int64.self, forKey: .seq)
        time = try Timestamp.parse(c.decode(String.self, forKey: .time))
        kind = try c.decode(String.self, forKey: .kind)
        jobID = try c.decodeIfPresent(Int64.self, forKey: .jobID)
        direction = try c.decodeIfPresent(String.self, forKey: .direction)
        message = try c.decode(String.self, forKey: .message)
        data = try c.decodeIfPresent([String: JSONValue].self, forKey: .data) ?? [:]
    }
}

/// Event kinds emitted by the daemon.
public enum EventKind {
    public static let daemonStarted = "daemon.started"
    public static let daemonStopping = "daemon.stopping"
    public static let jobEnqueued = "job.enqueued"
    public static let jobState = "job.state"
    public static let queuePaused = "queue.paused"
    public static let queueResumed = "queue.resumed"
    public static let agentStarted = "agent.started"
    public static let agentKilled = "agent.killed"
    public static let agentStalled = "agent.stalled"
    public static let directionDeclared = "direction.declared"
    public static let directionFinished = "direction.finished"
    public static let directionLanded = "direction.landed"
    public static let jobArchived = "job.archived"
    public static let intentFailed = "intent.failed"
    public static let sessionReport = "session.report"
    public static let runStarted = "run.started"
    public static let runEnded = "run.ended"
    public static let runArtifact = "run.artifact"
    public static let runEvaluated = "run.evaluated"
    public static let runSubmitted = "run.submitted"
    /// The daemon replayed a run's saved model for a submission: `data.outcome` is
    /// `reproduced`, `mismatch` or `unreproducible` (``SubmissionOutcome``).
    public static let runReplayed = "run.replayed"
    /// A submission whose private score trails its public score by more than `overfit_gap`.
    public static let overfit = "overfit"
    /// MLflow refused a request for good; the mirror set the record aside.
    public static let mlflowDeadLetter = "mlflow.dead_letter"
    /// A peer or a job reached one of the daemon's limits (`data.limit` names it).
    public static let limitHit = "limit.hit"

    /// The configuration key a `limit.hit` names in `data.limit` (`max_connections_per_agent`,
    /// `max_job_artifact_bytes`, `max_processes`, `max_cost_usd`, …): the first `max_…` key the
    /// refusal's message names, else `fallback`.
    public static func limitKey(in message: String, fallback: String) -> String {
        var best: Substring?
        var rest = message[...]
        while let range = rest.range(of: "max_") {
            let tail = rest[range.lowerBound...]
            let key = tail.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if key.count > 4 { best = key; break }
            rest = rest[range.upperBound...]
        }
        return best.map(String.init) ?? fallback
    }
    /// An agent started without a cgroup: which of its profile's limits are not enforced.
    public static let agentLimits = "agent.limits"
}
