/// Method names of protocol version 1. README.md and docs/protocol.md document each one.
public enum Method {
    public static let hello = "hello"
    public static let status = "daemon.status"
    public static let enqueue = "job.enqueue"
    public static let list = "job.list"
    public static let show = "job.show"
    public static let cancel = "job.cancel"
    public static let pause = "queue.pause"
    public static let resume = "queue.resume"
    public static let eventsList = "events.list"
    public static let eventsSubscribe = "events.subscribe"
    public static let directionDeclare = "direction.declare"
    public static let directionFinish = "direction.finish"
    public static let directionList = "direction.list"
    public static let logs = "job.logs"
    public static let explore = "session.explore"
    public static let stop = "session.stop"
    public static let `continue` = "session.continue"
    public static let runStart = "run.start"
    public static let runLog = "run.log"
    public static let runArtifact = "run.artifact"
    public static let runEnd = "run.end"
    public static let runShow = "run.show"
    public static let runList = "run.list"
    public static let runMetrics = "run.metrics"
    public static let eval = "run.eval"
    public static let submit = "run.submit"
    public static let leaderboard = "report.leaderboard"
    public static let summary = "report.summary"
    public static let compare = "report.compare"
    public static let mlflowStatus = "mlflow.status"
    public static let mlflowSync = "mlflow.sync"
    /// Server notification carrying one `Event`.
    public static let event = "event"
    /// Server notification: the subscriber fell behind; events resume from `last_seq`.
    public static let eventsOverflow = "events.overflow"
}

/// The first line a server sends on every connection.
public struct Hello: Sendable, Codable, Equatable {
    public var server: String
    public var version: String
    public var protocolVersion: Int
    public var maxLineBytes: Int
    public var capabilities: [String]

    public init(server: String, version: String, protocolVersion: Int, maxLineBytes: Int, capabilities: [String]) {
        self.server = server
        self.version = version
        self.protocolVersion = protocolVersion
        self.maxLineBytes = maxLineBytes
        self.capabilities = capabilities
    }

    enum CodingKeys: String, CodingKey {
        case server, version, capabilities
        case protocolVersion = "protocol"
        case maxLineBytes = "max_line_bytes"
    }
}

public struct EnqueueParams: Sendable, Codable, Equatable {
    public var direction: String
    public var guidance: String?
    public var agent: String?
    public var priority: Int?

    public init(direction: String, guidance: String? = nil, agent: String? = nil, priority: Int? = nil) {
        self.direction = direction
        self.guidance = guidance
        self.agent = agent
        self.priority = priority
    }
}

public struct JobIDParams: Sendable, Codable, Equatable {
    public var id: Int64
    public var reason: String?
    public init(id: Int64, reason: String? = nil) {
        self.id = id
        self.reason = reason
    }
}

public struct ListParams: Sendable, Codable, Equatable {
    public var state: JobState?
    public var limit: Int?
    public init(state: JobState? = nil, limit: Int? = nil) {
        self.state = state
        self.limit = limit
    }
}

public struct JobList: Sendable, Codable, Equatable {
    public var jobs: [Job]
    public init(jobs: [Job]) { self.jobs = jobs }
}

public struct EventsParams: Sendable, Codable, Equatable {
    /// Return events with `seq` greater than this (0 = from the beginning).
    public var since: Int64?
    public var job: Int64?
    public var limit: Int?

    public init(since: Int64? = nil, job: Int64? = nil, limit: Int? = nil) {
        self.since = since
        self.job = job
        self.limit = limit
    }
}

public struct EventList: Sendable, Codable, Equatable {
    public var events: [Event]
    /// The highest `seq` in the log when the page was read.
    public var lastSeq: Int64

    public init(events: [Event], lastSeq: Int64) {
        self.events = events
        self.lastSeq = lastSeq
    }

    enum CodingKeys: String, CodingKey {
        case events
        case lastSeq = "last_seq"
    }
}

public struct SubscribeResult: Sendable, Codable, Equatable {
    public var subscribed: Bool
    public var since: Int64
    public var lastSeq: Int64

    public init(subscribed: Bool, since: Int64, lastSeq: Int64) {
        self.subscribed = subscribed
        self.since = since
        self.lastSeq = lastSeq
    }

    enum CodingKeys: String, CodingKey {
        case subscribed, since
        case lastSeq = "last_seq"
    }
}

public struct OverflowNotice: Sendable, Codable, Equatable {
    public var lastSeq: Int64
    public var dropped: Int
    public init(lastSeq: Int64, dropped: Int) {
        self.lastSeq = lastSeq
        self.dropped = dropped
    }
    enum CodingKeys: String, CodingKey {
        case dropped
        case lastSeq = "last_seq"
    }
}

public struct PauseState: Sendable, Codable, Equatable {
    public var paused: Bool
    public init(paused: Bool) { self.paused = paused }
}

public struct DaemonStatus: Sendable, Codable, Equatable {
    public var version: String
    public var protocolVersion: Int
    public var pid: Int32
    public var startedAt: String
    public var uptimeSeconds: Double
    public var paused: Bool
    /// Count of jobs in each state; every state is present.
    public var queue: [String: Int]
    public var pool: Pool
    public var lastSeq: Int64
    public var socket: String
    /// `bound` when the daemon created its socket, `activated` when systemd passed it.
    public var listen: String
    public var stateDir: String
    /// Tokens and cost of every job so far, when any profile reads usage.
    public var usage: TokenUsage?
    /// What the artifact store holds, against its caps.
    public var artifacts: ArtifactStoreUsage?
    /// The Slurm cluster's pool, when a profile runs there (`pool` then counts local agents only).
    public var cluster: ClusterPool?
    /// The TCP+TLS listener for agents on other machines, when `[daemon] listen` is set.
    public var tls: TLSListener?

    public struct TLSListener: Sendable, Codable, Equatable {
        /// The bound address, `HOST:PORT`.
        public var address: String
        /// What agents on other machines are given: `tls://<advertise>:<port>`.
        public var advertise: String
        /// Lowercase hex SHA-256 of the certificate's DER (`MLAGENT_TLS_FINGERPRINT`).
        public var fingerprint: String
        public init(address: String, advertise: String, fingerprint: String) {
            self.address = address
            self.advertise = advertise
            self.fingerprint = fingerprint
        }
    }

    public struct ClusterPool: Sendable, Codable, Equatable {
        /// Jobs running on a node, and those waiting in Slurm's queue (or being submitted).
        public var running: Int
        public var pending: Int
        public var maxJobs: Int
        public init(running: Int, pending: Int, maxJobs: Int) {
            self.running = running
            self.pending = pending
            self.maxJobs = maxJobs
        }
        enum CodingKeys: String, CodingKey {
            case running, pending
            case maxJobs = "max_jobs"
        }
    }

    public struct Pool: Sendable, Codable, Equatable {
        public var running: Int
        public var maxAgents: Int
        public init(running: Int, maxAgents: Int) {
            self.running = running
            self.maxAgents = maxAgents
        }
        enum CodingKeys: String, CodingKey {
            case running
            case maxAgents = "max_agents"
        }
    }

    public init(
        version: String, protocolVersion: Int, pid: Int32, startedAt: String, uptimeSeconds: Double,
        paused: Bool, queue: [String: Int], pool: Pool, lastSeq: Int64, socket: String, listen: String,
        stateDir: String
    ) {
        self.version = version
        self.protocolVersion = protocolVersion
        self.pid = pid
        self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds
        self.paused = paused
        self.queue = queue
        self.pool = pool
        self.lastSeq = lastSeq
        self.socket = socket
        self.listen = listen
        self.stateDir = stateDir
    }

    enum CodingKeys: String, CodingKey {
        case version, pid, paused, queue, pool, socket, listen, usage, artifacts, cluster, tls
        case protocolVersion = "protocol"
        case startedAt = "started_at"
        case uptimeSeconds = "uptime_seconds"
        case lastSeq = "last_seq"
        case stateDir = "state_dir"
    }
}

public struct DeclareParams: Sendable, Codable, Equatable {
    public var name: String
    public var rationale: String
    public init(name: String, rationale: String) {
        self.name = name
        self.rationale = rationale
    }
}

public struct FinishParams: Sendable, Codable, Equatable {
    public var learnings: String
    public init(learnings: String) { self.learnings = learnings }
}

public struct DirectionList: Sendable, Codable, Equatable {
    public var directions: [Direction]
    public init(directions: [Direction]) { self.directions = directions }
}

public struct LogsParams: Sendable, Codable, Equatable {
    public var id: Int64
    /// Byte offset to read from; negative counts from the end (e.g. -4096: the last 4 KiB).
    public var offset: Int64?
    public var limit: Int?
    public init(id: Int64, offset: Int64? = nil, limit: Int? = nil) {
        self.id = id
        self.offset = offset
        self.limit = limit
    }
}

public struct LogChunk: Sendable, Codable, Equatable {
    public var jobID: Int64
    public var offset: Int64
    public var nextOffset: Int64
    public var size: Int64
    public var data: String
    /// Whether the job is still running (more output may come).
    public var running: Bool

    public init(jobID: Int64, offset: Int64, nextOffset: Int64, size: Int64, data: String, running: Bool) {
        self.jobID = jobID
        self.offset = offset
        self.nextOffset = nextOffset
        self.size = size
        self.data = data
        self.running = running
    }

    enum CodingKeys: String, CodingKey {
        case offset, size, data, running
        case jobID = "job_id"
        case nextOffset = "next_offset"
    }
}

public struct ExploreParams: Sendable, Codable, Equatable {
    public var count: Int?
    public var agent: String?
    public var guidance: String?
    public init(count: Int? = nil, agent: String? = nil, guidance: String? = nil) {
        self.count = count
        self.agent = agent
        self.guidance = guidance
    }
}

public struct StopParams: Sendable, Codable, Equatable {
    public var now: Bool?
    public init(now: Bool? = nil) { self.now = now }
}

public struct SessionReport: Sendable, Codable, Equatable {
    public var cancelled: [Int64]
    public var directions: [Direction]
    public var summary: String
    public init(cancelled: [Int64], directions: [Direction], summary: String) {
        self.cancelled = cancelled
        self.directions = directions
        self.summary = summary
    }
}
