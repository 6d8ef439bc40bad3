public import MLAgentProtocol

/// How predictions are scored and judged: the metric, its direction, the public budget and the
/// rule that flags overfitting (``OverfitVerdict``). Set by the daemon's configuration.
public struct EvaluationPolicy: Sendable, Equatable {
    public var metric: String
    public var higherIsBetter: Bool
    public var publicEvalBudget: Int
    /// The smallest gap flagged for this metric (`[evaluation] overfit_gap`).
    public var overfitFloor: GapFloor

    public init(metric: String, higherIsBetter: Bool, publicEvalBudget: Int, overfitFloor: GapFloor) {
        self.metric = metric
        self.higherIsBetter = higherIsBetter
        self.publicEvalBudget = publicEvalBudget
        self.overfitFloor = overfitFloor
    }

    /// A policy whose floor is an absolute gap.
    public init(metric: String, higherIsBetter: Bool, publicEvalBudget: Int, overfitGap: Double) {
        self.init(
            metric: metric, higherIsBetter: higherIsBetter, publicEvalBudget: publicEvalBudget,
            overfitFloor: .absolute(overfitGap))
    }

    /// The floor's number as configured: a gap, or a share of the public score.
    public var overfitGap: Double {
        switch overfitFloor {
        case .absolute(let amount): amount
        case .relative(let share): share
        }
    }

    /// The rule in one sentence, for reports: when a direction is flagged `overfit`.
    public var overfitRule: String {
        let worse = higherIsBetter ? "public − private" : "private − public"
        let floor: String
        switch overfitFloor {
        case .absolute: floor = "overfit_gap \(overfitFloor)"
        case .relative: floor = "overfit_gap \(overfitFloor) of the public score"
        }
        return "flagged overfit when the gap (\(worse)) exceeds both the 95% noise margin of the two bootstrap intervals and \(floor)"
    }

    /// `a` is better than `b`.
    public func better(_ a: Double, than b: Double) -> Bool {
        higherIsBetter ? a > b : a < b
    }

    /// How much worse the private score is than the public one (positive = worse).
    public func gap(publicScore: Double, privateScore: Double) -> Double {
        higherIsBetter ? publicScore - privateScore : privateScore - publicScore
    }

    /// Whether a submission overfits, and why.
    public func judge(
        publicScore: Double, publicInterval: ScoreInterval?, privateScore: Double, privateInterval: ScoreInterval?
    ) -> OverfitVerdict {
        OverfitVerdict(
            higherIsBetter: higherIsBetter, publicScore: publicScore, publicInterval: publicInterval,
            privateScore: privateScore, privateInterval: privateInterval, floor: overfitFloor)
    }
}
