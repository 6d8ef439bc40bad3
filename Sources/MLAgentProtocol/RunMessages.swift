import Foundation

/// Params and results of the run methods (`run.*`) and of public evaluation.
public struct RunStartParams: Sendable, Codable, Equatable {
    public var name: String
    public var rationale: String
    public var params: [String: String]?
    /// The shared modules (`shared/NAME/` on main) the run imports.
    public var uses: [String]?

    public init(name: String, rationale: String, params: [String: String]? = nil, uses: [String]? = nil) {
        self.name = name
        self.rationale = rationale
        self.params = params
        self.uses = uses
    }
}

public struct RunLogParams: Sendable, Codable, Equatable {
    public var run: Int64
    public var metrics: [MetricPoint]?
    public var params: [String: String]?
    public var tags: [String: String]?
    /// An id for this batch, unique within the run: a batch sent twice (a retry after a lost
    /// connection) is recorded once.
    public var batch: String?

    public init(
        run: Int64, metrics: [MetricPoint]? = nil, params: [String: String]? = nil, tags: [String: String]? = nil,
        batch: String? = nil
    ) {
        self.run = run
        self.metrics = metrics
        self.params = params
        self.tags = tags
        self.batch = batch
    }
}

public struct RunLogResult: Sendable, Codable, Equatable {
    public var run: Int64
    public var metrics: Int
    public var params: Int
    public var tags: Int
    /// The batch was recorded before; nothing was added.
    public var duplicate: Bool
    public var metricPoints: Int64

    public init(run: Int64, metrics: Int, params: Int, tags: Int, duplicate: Bool, metricPoints: Int64) {
        self.run = run
        self.metrics = metrics
        self.params = params
        self.tags = tags
        self.duplicate = duplicate
        self.metricPoints = metricPoints
    }

    enum CodingKeys: String, CodingKey {
        case run, metrics, params, tags, duplicate
        case metricPoints = "metric_points"
    }
}

public struct RunArtifactParams: Sendable, Codable, Equatable {
    public var run: Int64
    /// An absolute path inside the agent's worktree.
    public var path: String
    /// The name in the artifact store (default: the last path component).
    public var name: String?

    public init(run: Int64, path: String, name: String? = nil) {
        self.run = run
        self.path = path
        self.name = name
    }
}

public struct RunEndParams: Sendable, Codable, Equatable {
    public var run: Int64
    public var analysis: String
    public var failed: Bool?

    public init(run: Int64, analysis: String, failed: Bool? = nil) {
        self.run = run
        self.analysis = analysis
        self.failed = failed
    }
}

public struct RunIDParams: Sendable, Codable, Equatable {
    public var run: Int64
    public init(run: Int64) { self.run = run }
}

public struct RunsParams: Sendable, Codable, Equatable {
    public var direction: String?
    public init(direction: String? = nil) { self.direction = direction }
}

public struct RunList: Sendable, Codable, Equatable {
    public var runs: [Run]
    public init(runs: [Run]) { self.runs = runs }
}

public struct MetricHistoryParams: Sendable, Codable, Equatable {
    public var run: Int64
    public var key: String?
    /// Return points after this position (the `next` of a previous page).
    public var after: Int64?
    public var limit: Int?

    public init(run: Int64, key: String? = nil, after: Int64? = nil, limit: Int? = nil) {
        self.run = run
        self.key = key
        self.after = after
        self.limit = limit
    }
}

public struct MetricHistory: Sendable, Codable, Equatable {
    public var run: Int64
    public var points: [MetricPoint]
    /// Pass as `after` to read the next page; nil at the end.
    public var next: Int64?

    public init(run: Int64, points: [MetricPoint], next: Int64?) {
        self.run = run
        self.points = points
        self.next = next
    }
}

// MARK: Evaluation

public struct EvalParams: Sendable, Codable, Equatable {
    public var run: Int64
    /// An absolute path inside the agent's worktree. A submission without one asks the daemon
    /// to replay the run's saved model (`[evaluation] submit = "replay"`).
    public var path: String?

    public init(run: Int64, path: String?) {
        self.run = run
        self.path = path
    }
}

/// The score of one evaluation (public) or submission (private).
public struct EvalResult: Sendable, Codable, Equatable {
    public var run: Int64
    public var direction: String
    /// `public` or `private`.
    public var split: String
    public var metric: String
    public var higherIsBetter: Bool
    public var score: Double
    public var interval: ScoreInterval?
    public var rows: Int
    public var time: String
    /// Public evaluations this direction has left.
    public var publicEvalsLeft: Int
    /// For a submission: the run's public score, the gap (positive when the private score is
    /// worse) and whether the gap exceeds `overfit_gap`.
    public var publicScore: Double?
    public var gap: Double?
    public var overfit: Bool?
    /// For a submission: the gap above which it is flagged (the larger of the noise margin of
    /// the two scores' intervals and the metric's `overfit_gap`), and why it is or is not.
    public var gapThreshold: Double?
    public var overfitReason: String?
    /// For a submission: how its private predictions were obtained (replayed or the agent's).
    public var submission: Submission?

    public init(
        run: Int64, direction: String, split: String, metric: String, higherIsBetter: Bool, score: Double,
        interval: ScoreInterval?, rows: Int, time: String, publicEvalsLeft: Int, publicScore: Double? = nil,
        gap: Double? = nil, overfit: Bool? = nil, gapThreshold: Double? = nil, overfitReason: String? = nil,
        submission: Submission? = nil
    ) {
        self.run = run
        self.direction = direction
        self.split = split
        self.metric = metric
        self.higherIsBetter = higherIsBetter
        self.score = score
        self.interval = interval
        self.rows = rows
        self.time = time
        self.publicEvalsLeft = publicEvalsLeft
        self.publicScore = publicScore
        self.gap = gap
        self.overfit = overfit
        self.gapThreshold = gapThreshold
        self.overfitReason = overfitReason
        self.submission = submission
    }

    enum CodingKeys: String, CodingKey {
        case run, direction, split, metric, score, interval, rows, time, gap, overfit, submission
        case higherIsBetter = "higher_is_better"
        case publicEvalsLeft = "public_evals_left"
        case publicScore = "public_score"
        case gapThreshold = "gap_threshold"
        case overfitReason = "overfit_reason"
    }
}
