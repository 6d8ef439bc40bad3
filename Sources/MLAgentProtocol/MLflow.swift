/// Wire types of the MLflow mirror.

public struct MLflowDeadLetter: Sendable, Codable, Equatable {
    public var run: Int64
    public var operation: String
    public var status: Int
    public var reason: String
    public var time: String

    public init(run: Int64, operation: String, status: Int, reason: String, time: String) {
        self.run = run
        self.operation = operation
        self.status = status
        self.reason = reason
        self.time = time
    }
}

public struct MLflowStatus: Sendable, Codable, Equatable {
    /// Empty when the mirror is off.
    public var trackingURI: String
    public var experimentID: String?
    public var experimentName: String?
    /// Whether the daemon runs the server itself, and its pid when it does.
    public var serving: Bool
    public var serverPID: Int32?
    public var runsMirrored: Int
    /// Rows waiting: runs with unsent changes and metric points not yet acknowledged.
    public var runsPending: Int
    public var pointsPending: Int
    public var lastError: String?
    public var lastSuccess: String?
    /// Tags longer than MLflow keeps (8,000 characters): sent cut, with a note and their full
    /// text as an artifact of the run.
    public var tagsCut: Int?
    public var deadLetters: [MLflowDeadLetter]

    public init(
        trackingURI: String, experimentID: String?, experimentName: String? = nil, serving: Bool, serverPID: Int32?,
        runsMirrored: Int, runsPending: Int, pointsPending: Int, lastError: String?, lastSuccess: String?, tagsCut: Int? = nil,
        deadLetters: [MLflowDeadLetter]
    ) {
        self.trackingURI = trackingURI
        self.experimentID = experimentID
        self.experimentName = experimentName
        self.tagsCut = tagsCut
        self.serving = serving
        self.serverPID = serverPID
        self.runsMirrored = runsMirrored
        self.runsPending = runsPending
        self.pointsPending = pointsPending
        self.lastError = lastError
        self.lastSuccess = lastSuccess
        self.deadLetters = deadLetters
    }

    enum CodingKeys: String, CodingKey {
        case serving
        case trackingURI = "tracking_uri"
        case experimentID = "experiment_id"
        case experimentName = "experiment_name"
        case tagsCut = "tags_cut"
        case serverPID = "server_pid"
        case runsMirrored = "runs_mirrored"
        case runsPending = "runs_pending"
        case pointsPending = "points_pending"
        case lastError = "last_error"
        case lastSuccess = "last_success"
        case deadLetters = "dead_letters"
    }
}

public struct MLflowSyncParams: Sendable, Codable, Equatable {
    /// Another server to replay the whole history into; absent: the configured one.
    public var trackingURI: String?
    public init(trackingURI: String? = nil) { self.trackingURI = trackingURI }
    enum CodingKeys: String, CodingKey { case trackingURI = "tracking_uri" }
}

public struct MLflowSyncResult: Sendable, Codable, Equatable {
    public var trackingURI: String
    public var runs: Int
    public var points: Int
    public var seconds: Double
    public init(trackingURI: String, runs: Int, points: Int, seconds: Double) {
        self.trackingURI = trackingURI
        self.runs = runs
        self.points = points
        self.seconds = seconds
    }
    enum CodingKeys: String, CodingKey {
        case runs, points, seconds
        case trackingURI = "tracking_uri"
    }
}
