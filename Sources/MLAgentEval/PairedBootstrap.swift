/// Paired percentile bootstrap of the difference between two sets of predictions for the same rows.
///
/// `PairedBootstrap` owns the comparison of two runs: each replicate draws the rows with
/// replacement once and scores both prediction vectors on that same resample, so the noise that
/// the rows share (a hard row is hard for both) cancels in the difference. As in ``Bootstrap``, a
/// replicate is scored as multinomial row counts used as weights, so each metric's preparation
/// (the sort for ROC AUC) happens once per vector and a replicate costs two O(n) passes. The draws
/// depend only on the seed and the row count, and are the same stream as ``Bootstrap``'s.
public enum PairedBootstrap {
    /// The paired comparison of `a` against `b` over the rows of `truth`: the observed difference
    /// metric(a) − metric(b), its percentile interval over `samples` replicates drawn from
    /// `seed`, and in how many replicates each side is better (by `metric.higherIsBetter`).
    ///
    /// Throws what ``EvalMetric/score(truth:predictions:)`` throws for either vector. With
    /// `samples` ≤ 0 the result holds the observed difference only (`samples == 0`, NaN bounds).
    /// Replicates whose scores are undefined (one class only, for `roc_auc` and `log_loss`) are
    /// skipped, as in ``Bootstrap``. `confidence` is clamped to [0, 1].
    public static func compare(
        metric: EvalMetric, truth: [Double], a: [Double], b: [Double], samples: Int = 1000,
        confidence: Double = 0.95, seed: UInt64
    ) throws(EvalError) -> PairedComparison {
        let kernels = try Kernels(metric: metric, truth: truth, a: a, b: b)
        let rows = truth.count
        var generator = Xoshiro256StarStar(seed: seed)
        var differences: [Double] = []
        differences.reserveCapacity(max(samples, 0))
        var counts = [Double](repeating: 0, count: rows)
        counts.withUnsafeMutableBufferPointer { counts in
            for _ in 0..<max(samples, 0) {
                counts.update(repeating: 0)
                for _ in 0..<rows {
                    counts[Int(generator.next(below: UInt64(rows)))] += 1
                }
                if let difference = kernels.difference(weights: BufferWeights(buffer: UnsafeBufferPointer(counts))) {
                    differences.append(difference)
                }
            }
        }
        return summarize(
            observed: kernels.observed, differences: differences, higherIsBetter: metric.higherIsBetter,
            confidence: confidence)
    }

    /// The difference metric(a) − metric(b) on each given resample, a resample being a list of
    /// row indices drawn with replacement (any length); nil where the metric is undefined on it.
    ///
    /// This is the replicate step of ``compare(metric:truth:a:b:samples:confidence:seed:)`` with
    /// the draws supplied by the caller, so an independent implementation can be checked
    /// replicate by replicate on the same index sets. Throws for inputs that cannot be scored and
    /// for an index outside the rows.
    public static func differences(
        metric: EvalMetric, truth: [Double], a: [Double], b: [Double], resamples: [[Int]]
    ) throws(EvalError) -> [Double?] {
        let kernels = try Kernels(metric: metric, truth: truth, a: a, b: b)
        var counts = [Double](repeating: 0, count: truth.count)
        var result: [Double?] = []
        result.reserveCapacity(resamples.count)
        for (number, resample) in resamples.enumerated() {
            for index in counts.indices { counts[index] = 0 }
            for row in resample {
                guard counts.indices.contains(row) else {
                    throw EvalError(
                        "resample \(number + 1) draws row \(row); rows are 0 to \(truth.count - 1)")
                }
                counts[row] += 1
            }
            result.append(counts.withUnsafeBufferPointer { kernels.difference(weights: BufferWeights(buffer: $0)) })
        }
        return result
    }

    /// The comparison from the observed difference and the replicates' differences: the
    /// percentile interval (numpy's default "linear" percentiles at 100·(1 − c)/2 and
    /// 100·(1 + c)/2), and the replicates in which a (or b) is strictly better; ties count for
    /// neither.
    public static func summarize(
        observed: Double, differences: [Double], higherIsBetter: Bool, confidence: Double = 0.95
    ) -> PairedComparison {
        let confidence = confidence.isNaN ? 0.95 : min(max(confidence, 0), 1)
        var aBetter = 0
        var bBetter = 0
        for difference in differences {
            if difference > 0 { if higherIsBetter { aBetter += 1 } else { bBetter += 1 } }
            if difference < 0 { if higherIsBetter { bBetter += 1 } else { aBetter += 1 } }
        }
        let sorted = differences.contains(where: \.isNaN) ? [] : differences.sorted()
        let tail = (1 - confidence) / 2
        return PairedComparison(
            difference: observed, low: Bootstrap.percentile(sorted: sorted, 100 * tail),
            high: Bootstrap.percentile(sorted: sorted, 100 * (1 - tail)), samples: differences.count,
            confidence: confidence, aBetter: aBetter, bBetter: bBetter)
    }

    /// The two vectors' kernels over the same truth.
    private struct Kernels {
        let a: MetricKernel
        let b: MetricKernel
        let observed: Double

        init(metric: EvalMetric, truth: [Double], a: [Double], b: [Double]) throws(EvalError) {
            self.a = try MetricKernel(metric: metric, truth: truth, predictions: a)
            self.b = try MetricKernel(metric: metric, truth: truth, predictions: b)
            let scoreA = try metric.finite(try self.a.score(weights: UnitWeights()), predictions: a)
            let scoreB = try metric.finite(try self.b.score(weights: UnitWeights()), predictions: b)
            observed = scoreA - scoreB
        }

        /// metric(a) − metric(b) with these weights; nil when either is undefined for them.
        @inline(__always)
        func difference(weights: BufferWeights) -> Double? {
            guard let scoreA = try? a.score(weights: weights), let scoreB = try? b.score(weights: weights) else {
                return nil
            }
            return scoreA - scoreB
        }
    }
}

/// The result of ``PairedBootstrap``: metric(a) − metric(b) with its percentile interval.
public struct PairedComparison: Sendable, Equatable {
    /// metric(a) − metric(b) on all the rows.
    public var difference: Double
    /// The percentile interval of the replicates' differences; NaN when no replicate was scored.
    public var low: Double
    public var high: Double
    /// How many replicates produced a difference.
    public var samples: Int
    /// The confidence level, in [0, 1].
    public var confidence: Double
    /// Replicates in which a (respectively b) scored strictly better.
    public var aBetter: Int
    public var bBetter: Int

    public init(
        difference: Double, low: Double, high: Double, samples: Int, confidence: Double, aBetter: Int, bBetter: Int
    ) {
        self.difference = difference
        self.low = low
        self.high = high
        self.samples = samples
        self.confidence = confidence
        self.aBetter = aBetter
        self.bBetter = bBetter
    }

    /// The share of replicates in which a is strictly better; NaN without replicates.
    public var probabilityABetter: Double { samples == 0 ? .nan : Double(aBetter) / Double(samples) }

    /// Whether the interval is finite and excludes 0: the two are told apart at this confidence.
    public var distinguishable: Bool { low.isFinite && high.isFinite && (low > 0 || high < 0) }

    /// The comparison of b against a: the difference and the interval negated, the counts swapped.
    public var reversed: PairedComparison {
        PairedComparison(
            difference: -difference, low: -high, high: -low, samples: samples, confidence: confidence,
            aBetter: bBetter, bBetter: aBetter)
    }
}
