/// `report.compare` params: the two runs, compared as A against B.
public struct CompareParams: Sendable, Codable, Equatable {
    public var runA: Int64
    public var runB: Int64

    public init(runA: Int64, runB: Int64) {
        self.runA = runA
        self.runB = runB
    }

    enum CodingKeys: String, CodingKey {
        case runA = "run_a"
        case runB = "run_b"
    }
}

/// `report.compare` result: a paired bootstrap of two runs' public predictions on the same rows.
public struct RunComparison: Sendable, Codable, Equatable {
    public var runA: Int64
    public var runB: Int64
    public var directionA: String
    public var directionB: String
    public var metric: String
    public var higherIsBetter: Bool
    /// The public rows both were scored on.
    public var rows: Int
    /// The runs' public scores (from the predictions compared).
    public var scoreA: Double
    public var scoreB: Double
    /// score A − score B, in the metric's units.
    public var difference: Double
    /// The paired percentile interval of the difference; nil when `bootstrap_samples` is 0 or no
    /// resample could be scored.
    public var interval: ScoreInterval?
    /// The share of resamples in which A scores strictly better (ties count for neither).
    public var probabilityABetter: Double?
    /// Whether the interval excludes 0.
    public var distinguishable: Bool
    /// The comparison in one sentence.
    public var verdict: String

    public init(
        runA: Int64, runB: Int64, directionA: String, directionB: String, metric: String, higherIsBetter: Bool,
        rows: Int, scoreA: Double, scoreB: Double, difference: Double, interval: ScoreInterval?,
        probabilityABetter: Double?, distinguishable: Bool, verdict: String
    ) {
        self.runA = runA
        self.runB = runB
        self.directionA = directionA
        self.directionB = directionB
        self.metric = metric
        self.higherIsBetter = higherIsBetter
        self.rows = rows
        self.scoreA = scoreA
        self.scoreB = scoreB
        self.difference = difference
        self.interval = interval
        self.probabilityABetter = probabilityABetter
        self.distinguishable = distinguishable
        self.verdict = verdict
    }

    enum CodingKeys: String, CodingKey {
        case metric, rows, difference, interval, distinguishable, verdict
        case runA = "run_a"
        case runB = "run_b"
        case directionA = "direction_a"
        case directionB = "direction_b"
        case higherIsBetter = "higher_is_better"
        case scoreA = "score_a"
        case scoreB = "score_b"
        case probabilityABetter = "probability_a_better"
    }
}

/// A leaderboard entry's best run against the leader's (`vs_leader`): the paired difference
/// (this run − the leader's) on the public rows.
public struct LeaderComparison: Sendable, Codable, Equatable {
    public var leaderRun: Int64
    public var difference: Double
    public var interval: ScoreInterval?
    /// The share of resamples in which this run scores strictly better than the leader's.
    public var probabilityBetter: Double?
    /// Whether the interval excludes 0 (false: indistinguishable from the leader).
    public var distinguishable: Bool

    public init(
        leaderRun: Int64, difference: Double, interval: ScoreInterval?, probabilityBetter: Double?,
        distinguishable: Bool
    ) {
        self.leaderRun = leaderRun
        self.difference = difference
        self.interval = interval
        self.probabilityBetter = probabilityBetter
        self.distinguishable = distinguishable
    }

    enum CodingKeys: String, CodingKey {
        case difference, interval, distinguishable
        case leaderRun = "leader_run"
        case probabilityBetter = "probability_better"
    }
}
