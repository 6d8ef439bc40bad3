public import MLAgentProtocol

/// The smallest gap (private worse than public) that is worth flagging for one metric, whatever
/// the intervals say: in the metric's own units, or as a fraction of the public score for the
/// metrics whose scale is the data's (log loss, RMSE, MAE).
public enum GapFloor: Sendable, Equatable, CustomStringConvertible {
    case absolute(Double)
    case relative(Double)

    /// The documented default of each metric (`[evaluation] overfit_gap`): bounded scores get
    /// an absolute floor, scores on the data's scale a share of the public score.
    public static let defaults: [String: GapFloor] = [
        "roc_auc": .absolute(0.005), "accuracy": .absolute(0.005), "f1": .absolute(0.01), "r2": .absolute(0.01),
        "log_loss": .relative(0.02), "rmse": .relative(0.02), "mae": .relative(0.02),
    ]

    /// `value` without trailing zeros: 0.005, 2, 12.5.
    static func plain(_ value: Double) -> String {
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// The floor for a submission whose public score is `publicScore`.
    public func value(publicScore: Double) -> Double {
        switch self {
        case .absolute(let amount): amount
        case .relative(let share): share * abs(publicScore)
        }
    }

    /// As written in the configuration: `0.005` or `"2%"`.
    public var description: String {
        switch self {
        case .absolute(let amount): Self.plain(amount)
        case .relative(let share): "\(Self.plain(share * 100))%"
        }
    }
}

/// Whether a submission overfits the public split, and why.
///
/// The gap is how much worse the private score is than the public one (public − private when
/// higher is better, private − public otherwise). Two splits of the same data differ by chance,
/// so the gap is compared with its own noise: the 95% margin √(w_public² + w_private²), w being
/// the half-width of each score's bootstrap interval (the public one's when the private score has
/// none). A direction is flagged when its gap exceeds both that margin and the metric's
/// ``GapFloor``, so a private score inside what chance explains is never flagged, on any scale.
public struct OverfitVerdict: Sendable, Equatable {
    public var gap: Double
    /// The noise margin from the intervals; nil when neither score has an interval.
    public var margin: Double?
    public var floor: Double
    /// The gap above which the direction is flagged: the larger of `margin` and `floor`.
    public var threshold: Double { max(margin ?? 0, floor) }
    public var flagged: Bool { gap > threshold }
    /// One sentence: why the direction is (or is not) flagged.
    public var reason: String

    public init(
        higherIsBetter: Bool, publicScore: Double, publicInterval: ScoreInterval?, privateScore: Double,
        privateInterval: ScoreInterval?, floor rule: GapFloor
    ) {
        let gap = higherIsBetter ? publicScore - privateScore : privateScore - publicScore
        var margin: Double?
        if let publicWidth = Self.halfWidth(publicInterval) {
            let privateWidth = Self.halfWidth(privateInterval) ?? publicWidth
            margin = (publicWidth * publicWidth + privateWidth * privateWidth).squareRoot()
        }
        let floor = rule.value(publicScore: publicScore)
        self.gap = gap
        self.margin = margin
        self.floor = floor
        let floorText = {
            switch rule {
            case .absolute: "the smallest gap flagged (overfit_gap \(rule))"
            case .relative: "the smallest gap flagged (overfit_gap \(rule) of the public score: \(Self.format(floor)))"
            }
        }()
        let side = higherIsBetter ? "below" : "above"
        let marginText = margin.map {
            "the 95% noise margin of the gap (\(Self.format($0)), from the bootstrap intervals of both scores)"
        }
        let scores = "private \(Self.format(privateScore)) is \(side) public \(Self.format(publicScore))"
        if gap > max(margin ?? 0, floor) {
            self.reason = "\(scores) by \(Self.format(gap)), more than "
                + (marginText.map { "\($0) and \(floorText)" } ?? "\(floorText) (no bootstrap interval to judge the noise)")
        } else if gap <= 0 {
            self.reason = "private \(Self.format(privateScore)) is no worse than public \(Self.format(publicScore))"
        } else if let margin, margin >= floor {
            self.reason = "\(scores) by \(Self.format(gap)), within \(marginText ?? Self.format(margin)): chance explains it"
        } else {
            self.reason = "\(scores) by \(Self.format(gap)), within \(floorText)"
        }
    }

    static func halfWidth(_ interval: ScoreInterval?) -> Double? {
        guard let interval, interval.low.isFinite, interval.high.isFinite, interval.high >= interval.low else { return nil }
        return (interval.high - interval.low) / 2
    }

    /// Four significant decimals, like every score the daemon prints.
    static func format(_ value: Double) -> String {
        let text = String(format: "%.4f", value)
        return text == "-0.0000" ? "0.0000" : text
    }
}
