/// Percentile bootstrap over rows.
///
/// `Bootstrap` owns resampling and percentiles: each replicate draws the rows with replacement,
/// which amounts to scoring the same rows with multinomial counts as weights, so the metric's
/// preparation (the sort for ROC AUC) happens once and each replicate costs O(n). The stream of
/// draws depends only on the seed, so an interval is reproducible.
public enum Bootstrap {
    /// The percentile-bootstrap interval of `metric` over the rows of `truth` and `predictions`.
    ///
    /// Never throws: when the inputs cannot be scored at all (the same conditions under which
    /// ``EvalMetric/score(truth:predictions:)`` throws) or `samples` is not positive, the result
    /// has `samples == 0` and NaN bounds. Replicates whose score is undefined (a single class for
    /// `roc_auc` and `log_loss`) are skipped; a replicate whose score overflows is kept, so a bound
    /// may be infinite (or NaN) when the scores overflow: check ``ScoreInterval/isFinite``.
    /// `confidence` is clamped to [0, 1].
    public static func interval(
        metric: EvalMetric,
        truth: [Double],
        predictions: [Double],
        samples: Int = 1000,
        confidence: Double = 0.95,
        seed: UInt64
    ) -> ScoreInterval {
        let confidence = confidence.isNaN ? 0.95 : min(max(confidence, 0), 1)
        let empty = ScoreInterval(low: .nan, high: .nan, samples: 0, confidence: confidence)
        guard samples > 0, let kernel = try? MetricKernel(metric: metric, truth: truth, predictions: predictions)
        else { return empty }

        let rows = kernel.rowCount
        var generator = Xoshiro256StarStar(seed: seed)
        var scores: [Double] = []
        scores.reserveCapacity(samples)
        var counts = [Double](repeating: 0, count: rows)
        counts.withUnsafeMutableBufferPointer { counts in
            for _ in 0..<samples {
                counts.update(repeating: 0)
                for _ in 0..<rows {
                    counts[Int(generator.next(below: UInt64(rows)))] += 1
                }
                if let score = try? kernel.score(weights: BufferWeights(buffer: UnsafeBufferPointer(counts))) {
                    scores.append(score)
                }
            }
        }
        guard !scores.isEmpty else { return empty }
        if scores.contains(where: \.isNaN) {
            return ScoreInterval(low: .nan, high: .nan, samples: scores.count, confidence: confidence)
        }
        scores.sort()
        let tail = (1 - confidence) / 2
        return ScoreInterval(
            low: percentile(sorted: scores, 100 * tail),
            high: percentile(sorted: scores, 100 * (1 - tail)),
            samples: scores.count,
            confidence: confidence)
    }

    /// The `q`-th percentile (`q` in 0...100) of `values`, computed like `numpy.percentile` with
    /// its default "linear" method. NaN for an empty array.
    public static func percentile(of values: [Double], _ q: Double) -> Double {
        percentile(sorted: values.sorted(), q)
    }

    /// ``percentile(of:_:)`` for values already in ascending order.
    static func percentile(sorted values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let last = values.count - 1
        // numpy: virtual index (n − 1)·(q / 100), neighbours floor and floor + 1 clipped to the
        // array, and a lerp that is evaluated from the nearer neighbour.
        let virtualIndex = Double(last) * (min(max(q, 0), 100) / 100)
        guard virtualIndex < Double(last) else { return values[last] }
        let lower = Int(virtualIndex.rounded(.down))
        let gamma = virtualIndex - Double(lower)
        let a = values[lower]
        let b = values[lower + 1]
        let difference = b - a
        return gamma >= 0.5 ? b - difference * (1 - gamma) : a + difference * gamma
    }
}
