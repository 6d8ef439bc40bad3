/// Wire types of experiment tracking: runs, their params, tags, metric points and artifacts,
/// evaluations of predictions, and the operator's views (leaderboard, summary).
///
/// Times are UTC strings in the `Timestamp` format; metric timestamps are milliseconds since
/// the epoch, as in MLflow.

/// Tags the daemon sets on every run; agents cannot set them with `--tag`.
public enum RunTag {
    public static let branch = "git.branch"
    public static let directionRationale = "direction_rationale"
    public static let runRationale = "run_rationale"
    public static let runAnalysis = "run_analysis"
    public static let reserved: Set<String> = [branch, directionRationale, runRationale, runAnalysis]
    /// Prefix of tags only the daemon writes (`mlagent.run_id`, `mlagent.direction`, …).
    public static let daemonPrefix = "mlagent."
    /// The `main` commit the run's job started from.
    public static let mainCommit = "mlagent.main_commit"
    /// The shared modules the run imported, `name@version` separated by commas (`run start --uses`).
    public static let uses = "mlagent.uses"
}

/// Metric names the daemon logs on runs; agents cannot log them.
public enum RunMetric {
    public static let publicScore = "public_val_score"
    public static let privateScore = "private_val_score"
}

public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running, finished, failed
}

/// One run: a configuration tried within a direction.
public struct Run: Sendable, Codable, Equatable {
    public var id: Int64
    public var direction: String
    public var jobID: Int64
    public var name: String
    public var status: RunStatus
    public var rationale: String
    public var analysis: String?
    public var startedAt: String
    public var endedAt: String?
    /// The latest public score (`public_val_score`), its 95% bootstrap interval, and how many
    /// public evaluations the run used.
    public var publicScore: Double?
    public var publicInterval: ScoreInterval?
    public var publicEvals: Int
    /// The private score, set once when this run was submitted.
    public var privateScore: Double?
    public var metricPoints: Int64
    public var hasModel: Bool

    public init(
        id: Int64, direction: String, jobID: Int64, name: String, status: RunStatus, rationale: String,
        analysis: String?, startedAt: String, endedAt: String?, publicScore: Double?, publicInterval: ScoreInterval?,
        publicEvals: Int, privateScore: Double?, metricPoints: Int64, hasModel: Bool
    ) {
        self.id = id
        self.direction = direction
        self.jobID = jobID
        self.name = name
        self.status = status
        self.rationale = rationale
        self.analysis = analysis
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.publicScore = publicScore
        self.publicInterval = publicInterval
        self.publicEvals = publicEvals
        self.privateScore = privateScore
        self.metricPoints = metricPoints
        self.hasModel = hasModel
    }

    enum CodingKeys: String, CodingKey {
        case id, direction, name, status, rationale, analysis
        case jobID = "job_id"
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case publicScore = "public_score"
        case publicInterval = "public_interval"
        case publicEvals = "public_evals"
        case privateScore = "private_score"
        case metricPoints = "metric_points"
        case hasModel = "has_model"
    }
}

/// A percentile bootstrap interval of a score.
public struct ScoreInterval: Sendable, Codable, Equatable {
    public var low: Double
    public var high: Double
    public var confidence: Double
    public var samples: Int

    public init(low: Double, high: Double, confidence: Double, samples: Int) {
        self.low = low
        self.high = high
        self.confidence = confidence
        self.samples = samples
    }
}

/// One metric point.
public struct MetricPoint: Sendable, Codable, Equatable {
    public var key: String
    public var value: Double
    public var step: Int64
    /// Milliseconds since the epoch; the daemon's clock when absent.
    public var timestamp: Int64?

    public init(key: String, value: Double, step: Int64 = 0, timestamp: Int64? = nil) {
        self.key = key
        self.value = value
        self.step = step
        self.timestamp = timestamp
    }

    enum CodingKeys: String, CodingKey {
        case key, value, step, timestamp
    }

    /// `step` defaults to 0 when absent, as in MLflow.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(String.self, forKey: .key)
        value = try c.decode(Double.self, forKey: .value)
        step = try c.decodeIfPresent(Int64.self, forKey: .step) ?? 0
        timestamp = try c.decodeIfPresent(Int64.self, forKey: .timestamp)
    }
}

/// A file or directory stored in the daemon's artifact store.
public struct ArtifactInfo: Sendable, Codable, Equatable {
    public var name: String
    public var isDirectory: Bool
    public var files: Int
    public var bytes: Int64
    public var createdAt: String

    public init(name: String, isDirectory: Bool, files: Int, bytes: Int64, createdAt: String) {
        self.name = name
        self.isDirectory = isDirectory
        self.files = files
        self.bytes = bytes
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case name, files, bytes
        case isDirectory = "is_directory"
        case createdAt = "created_at"
    }
}

/// A run with everything recorded on it.
public struct RunDetail: Sendable, Codable, Equatable {
    public var run: Run
    public var params: [String: String]
    public var tags: [String: String]
    /// The latest value of each metric key (highest step, then latest timestamp).
    public var metrics: [String: MetricPoint]
    public var artifacts: [ArtifactInfo]
    public var evaluations: [EvalResult]
    /// Every submission of the run, oldest first: the scored one and any replay that failed.
    public var submissions: [Submission]

    public init(
        run: Run, params: [String: String], tags: [String: String], metrics: [String: MetricPoint],
        artifacts: [ArtifactInfo], evaluations: [EvalResult], submissions: [Submission] = []
    ) {
        self.run = run
        self.params = params
        self.tags = tags
        self.metrics = metrics
        self.artifacts = artifacts
        self.evaluations = evaluations
        self.submissions = submissions
    }
}

// MARK: Operator views

/// One direction on the leaderboard.
public struct LeaderboardEntry: Sendable, Codable, Equatable {
    public var rank: Int
    public var direction: String
    public var branch: String
    public var status: String
    public var jobID: Int64
    /// Best public score among the direction's runs that did not fail, with its interval.
    public var publicScore: Double?
    public var publicInterval: ScoreInterval?
    public var bestRun: Int64?
    public var bestRunName: String?
    public var submittedRun: Int64?
    /// The submitted run's public and private scores and their gap (positive = private worse).
    public var submittedPublicScore: Double?
    public var privateScore: Double?
    public var gap: Double?
    public var runs: Int
    public var failedRuns: Int
    public var publicEvals: Int
    /// `overfit`, `no_submission`, `budget_exhausted`, `failed`, `abandoned`.
    public var flags: [String]
    public var rationale: String
    public var startedAt: String
    public var finishedAt: String?
    /// The gap above which the submission is flagged `overfit` (the larger of the noise margin of
    /// the two scores' bootstrap intervals and the metric's `overfit_gap`), as judged when it was
    /// submitted.
    public var gapThreshold: Double?
    /// Why the direction is flagged `overfit` (nil when it is not).
    public var overfitReason: String?
    /// For a submitted direction: why the gap is or is not flagged, in one sentence.
    public var gapNote: String?
    /// The best run against the leader's (paired bootstrap on the public rows); nil for the leader.
    public var vsLeader: LeaderComparison?
    /// How the direction's private score was obtained (the scored submission, else its latest
    /// replay that failed); nil before any submission.
    public var submission: Submission?

    public init(
        rank: Int, direction: String, branch: String, status: String, jobID: Int64, publicScore: Double?,
        publicInterval: ScoreInterval?, bestRun: Int64?, bestRunName: String?, submittedRun: Int64?,
        submittedPublicScore: Double?, privateScore: Double?, gap: Double?, runs: Int, failedRuns: Int, publicEvals: Int,
        flags: [String], rationale: String, startedAt: String, finishedAt: String?, gapThreshold: Double? = nil,
        overfitReason: String? = nil, gapNote: String? = nil
    ) {
        self.rank = rank
        self.direction = direction
        self.branch = branch
        self.status = status
        self.jobID = jobID
        self.publicScore = publicScore
        self.publicInterval = publicInterval
        self.bestRun = bestRun
        self.bestRunName = bestRunName
        self.submittedRun = submittedRun
        self.submittedPublicScore = submittedPublicScore
        self.privateScore = privateScore
        self.gap = gap
        self.runs = runs
        self.failedRuns = failedRuns
        self.publicEvals = publicEvals
        self.flags = flags
        self.rationale = rationale
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.gapThreshold = gapThreshold
        self.overfitReason = overfitReason
        self.gapNote = gapNote
    }

    enum CodingKeys: String, CodingKey {
        case rank, direction, branch, status, runs, gap, flags, rationale
        case jobID = "job_id"
        case publicScore = "public_score"
        case publicInterval = "public_interval"
        case bestRun = "best_run"
        case bestRunName = "best_run_name"
        case submittedRun = "submitted_run"
        case submittedPublicScore = "submitted_public_score"
        case privateScore = "private_score"
        case failedRuns = "failed_runs"
        case publicEvals = "public_evals"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case gapThreshold = "gap_threshold"
        case overfitReason = "overfit_reason"
        case gapNote = "gap_note"
        case vsLeader = "vs_leader"
        case submission
    }
}

public struct Leaderboard: Sendable, Codable, Equatable {
    public var metric: String
    public var higherIsBetter: Bool
    /// The metric's `overfit_gap`: a gap, or a share of the public score (see `overfitRule`).
    public var overfitGap: Double
    public var publicEvalBudget: Int
    public var directions: [LeaderboardEntry]
    /// When a direction is flagged `overfit`, in one sentence.
    public var overfitRule: String?

    public init(
        metric: String, higherIsBetter: Bool, overfitGap: Double, publicEvalBudget: Int, directions: [LeaderboardEntry],
        overfitRule: String? = nil
    ) {
        self.metric = metric
        self.higherIsBetter = higherIsBetter
        self.overfitGap = overfitGap
        self.publicEvalBudget = publicEvalBudget
        self.directions = directions
        self.overfitRule = overfitRule
    }

    /// What the gap is for this metric: "public − private" when higher is better, else
    /// "private − public"; positive always means the private score is worse.
    public var gapDefinition: String {
        higherIsBetter ? "public − private" : "private − public"
    }

    enum CodingKeys: String, CodingKey {
        case metric, directions
        case higherIsBetter = "higher_is_better"
        case overfitGap = "overfit_gap"
        case publicEvalBudget = "public_eval_budget"
        case overfitRule = "overfit_rule"
    }
}

/// The final report of a research session.
public struct SessionSummary: Sendable, Codable, Equatable {
    public struct Best: Sendable, Codable, Equatable {
        public var direction: String
        public var branch: String
        public var run: Int64
        public var runName: String
        public var publicScore: Double
        public var privateScore: Double?
        public var gap: Double?

        public init(
            direction: String, branch: String, run: Int64, runName: String, publicScore: Double, privateScore: Double?,
            gap: Double?
        ) {
            self.direction = direction
            self.branch = branch
            self.run = run
            self.runName = runName
            self.publicScore = publicScore
            self.privateScore = privateScore
            self.gap = gap
        }

        enum CodingKeys: String, CodingKey {
            case direction, branch, run, gap
            case runName = "run_name"
            case publicScore = "public_score"
            case privateScore = "private_score"
        }
    }

    public var leaderboard: Leaderboard
    public var best: Best?
    public var totalRuns: Int
    public var failedRuns: Int
    /// Mean gap over submitted directions (positive = private worse).
    public var meanGap: Double?
    public var overfitDirections: [String]
    /// Directions whose best run the paired bootstrap cannot tell from the best's (95%).
    public var indistinguishableFromBest: [String]?
    /// The shared modules on `main` and which directions adopted them.
    public var sharedModules: [SharedModule]?
    public var text: String

    public init(
        leaderboard: Leaderboard, best: Best?, totalRuns: Int, failedRuns: Int, meanGap: Double?,
        overfitDirections: [String], text: String
    ) {
        self.leaderboard = leaderboard
        self.best = best
        self.totalRuns = totalRuns
        self.failedRuns = failedRuns
        self.meanGap = meanGap
        self.overfitDirections = overfitDirections
        self.text = text
    }

    enum CodingKeys: String, CodingKey {
        case leaderboard, best, text
        case totalRuns = "total_runs"
        case failedRuns = "failed_runs"
        case meanGap = "mean_gap"
        case overfitDirections = "overfit_directions"
        case indistinguishableFromBest = "indistinguishable_from_best"
        case sharedModules = "shared_modules"
    }
}
