/// A percentile-bootstrap confidence interval for a score.
public struct ScoreInterval: Sendable, Codable, Equatable {
    /// The lower percentile, at 100·(1 − confidence)/2.
    public var low: Double
    /// The upper percentile, at 100·(1 + confidence)/2.
    public var high: Double
    /// How many replicates produced a score. Replicates whose score is undefined (for example a
    /// resample holding one class only) are skipped; when this is 0, `low` and `high` are NaN.
    public var samples: Int
    /// The confidence level, in [0, 1] (0.95 for a 95% interval).
    public var confidence: Double

    /// Whether both bounds are finite numbers (false when no replicate could be scored, or when
    /// the replicates' scores overflow).
    public var isFinite: Bool { low.isFinite && high.isFinite }

    public init(low: Double, high: Double, samples: Int, confidence: Double) {
        self.low = low
        self.high = high
        self.samples = samples
        self.confidence = confidence
    }
}
