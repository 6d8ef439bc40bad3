import Foundation

/// Validated truth and predictions for one metric, with everything that does not depend on row
/// weights computed once.
///
/// `MetricKernel` owns the metric arithmetic. Building one validates the inputs and does the
/// O(n log n) work (the sort for ROC AUC, the per-row loss terms); each ``score(weights:)`` is then
/// a single O(n) pass, which is what makes a 1000-replicate bootstrap cheap. ``EvalMetric`` scores
/// through it too, so the bootstrap and the plain score can never disagree.
struct MetricKernel: Sendable {
    let metric: EvalMetric
    let rowCount: Int
    private let storage: Storage

    private enum Storage: Sendable {
        /// roc_auc: row indices sorted by ascending prediction, the class (0 or 1) at each sorted
        /// position, and the (exclusive) end of each tie group of equal predictions.
        case ranking(order: [Int], positive: [Double], groupEnds: [Int])
        /// log_loss, accuracy, mae, rmse: a weighted mean of one term per row (rmse takes the
        /// root). `positive` (log_loss only) is the class of each row, to check both are present.
        case meanOfTerms(terms: [Double], positive: [Bool]?)
        /// f1: the target and the predicted label of each row, both 0 or 1.
        case confusion(truth: [Double], predicted: [Double])
        /// r2: the raw values, the targets centred on their mean, and the squared errors.
        case regression(truth: [Double], predictions: [Double], centered: [Double], squaredErrors: [Double])
    }

    init(metric: EvalMetric, truth: [Double], predictions: [Double]) throws(EvalError) {
        guard truth.count == predictions.count else {
            throw EvalError(
                "there are \(EvalFormat.count(predictions.count, "prediction", "predictions")) for "
                    + "\(EvalFormat.count(truth.count, "target", "targets")); give one prediction per row")
        }
        guard !truth.isEmpty else {
            throw EvalError("there are no rows to score")
        }
        if metric == .r2 && truth.count < 2 {
            throw EvalError("R² is undefined for a single row", subject: .targets)
        }
        if let problem = EvalMetric.valueProblem(truth, for: metric) {
            throw EvalError(problem, subject: .targets)
        }
        try Self.validate(predictions: predictions, for: metric)

        self.metric = metric
        self.rowCount = truth.count
        switch metric {
        case .rocAUC:
            storage = Self.ranking(truth: truth, predictions: predictions)
        case .logLoss:
            // scikit-learn clips both columns of [1 - p, p] to [eps, 1 - eps], eps being the
            // float64 machine epsilon, and takes -log of the column of the true class.
            let eps = Double.ulpOfOne
            var terms = [Double](repeating: 0, count: truth.count)
            var positive = [Bool](repeating: false, count: truth.count)
            for row in truth.indices {
                let isPositive = truth[row] == 1
                let p = isPositive ? predictions[row] : 1 - predictions[row]
                terms[row] = -log(min(max(p, eps), 1 - eps))
                positive[row] = isPositive
            }
            storage = .meanOfTerms(terms: terms, positive: positive)
        case .accuracy:
            storage = .meanOfTerms(
                terms: zip(truth, predictions).map { $0 == $1 ? 1 : 0 }, positive: nil)
        case .mae:
            storage = .meanOfTerms(terms: zip(truth, predictions).map { abs($0 - $1) }, positive: nil)
        case .rmse:
            storage = .meanOfTerms(
                terms: zip(truth, predictions).map { ($0 - $1) * ($0 - $1) }, positive: nil)
        case .f1:
            storage = .confusion(truth: truth, predicted: predictions)
        case .r2:
            var sum = CompensatedSum()
            for y in truth { sum.add(y) }
            let mean = sum.value / Double(truth.count)
            storage = .regression(
                truth: truth, predictions: predictions, centered: truth.map { $0 - mean },
                squaredErrors: zip(truth, predictions).map { ($0 - $1) * ($0 - $1) })
        }
    }

    /// The metric over the rows with the given weights (counts); throws when it is undefined for
    /// these weights, for example when the rows of non-zero weight hold one class only.
    func score<Weights: RowWeights>(weights: Weights) throws(EvalError) -> Double {
        switch storage {
        case .ranking(let order, let positive, let groupEnds):
            return try rocAUC(order: order, positive: positive, groupEnds: groupEnds, weights: weights)
        case .meanOfTerms(let terms, let positive):
            return try meanOfTerms(terms, positive: positive, weights: weights)
        case .confusion(let truth, let predicted):
            return try f1(truth: truth, predicted: predicted, weights: weights)
        case .regression(let truth, let predictions, let centered, let squaredErrors):
            return try r2(
                truth: truth, predictions: predictions, centered: centered, squaredErrors: squaredErrors,
                weights: weights)
        }
    }

    // MARK: - Metrics

    /// Mann–Whitney form of the area under the ROC curve: each positive counts the negatives
    /// ranked below it plus half of those tied with it. This is exactly the trapezoidal area
    /// scikit-learn integrates over its ROC curve; with integer weights every sum is exact.
    private func rocAUC<Weights: RowWeights>(
        order: [Int], positive: [Double], groupEnds: [Int], weights: Weights
    ) throws(EvalError) -> Double {
        var twiceArea = 0.0
        var negativesBelow = 0.0
        var positivesSeen = 0.0
        var start = 0
        for end in groupEnds {
            var groupPositives = 0.0
            var groupNegatives = 0.0
            for position in start..<end {
                let weight = weights[order[position]]
                let positiveWeight = weight * positive[position]  // no branch on the class
                groupPositives += positiveWeight
                groupNegatives += weight - positiveWeight
            }
            twiceArea += groupPositives * (2 * negativesBelow + groupNegatives)
            negativesBelow += groupNegatives
            positivesSeen += groupPositives
            start = end
        }
        try requireBothClasses(positives: positivesSeen, negatives: negativesBelow, weights: weights)
        return twiceArea / (2 * positivesSeen * negativesBelow)
    }

    private func meanOfTerms<Weights: RowWeights>(
        _ terms: [Double], positive: [Bool]?, weights: Weights
    ) throws(EvalError) -> Double {
        var sum = CompensatedSum()
        var total = CompensatedSum()
        Self.forEachBlock(terms.count) { rows in
            var blockSum = 0.0
            var blockTotal = 0.0
            for row in rows {
                let weight = weights[row]
                blockSum += weight * terms[row]
                blockTotal += weight
            }
            sum.add(blockSum)
            total.add(blockTotal)
        }
        let totalWeight = total.value
        guard totalWeight > 0 else { throw Self.allWeightsZero }
        if let positive {
            var positives = 0.0
            for row in positive.indices {
                positives += positive[row] ? weights[row] : 0
            }
            try requireBothClasses(positives: positives, negatives: totalWeight - positives, weights: weights)
        }
        let mean = sum.value / totalWeight
        return metric == .rmse ? mean.squareRoot() : mean
    }

    /// scikit-learn's binary F1 for pos_label 1: 2·TP / (2·TP + FP + FN), that is 2·TP over
    /// (actual positives + predicted positives). It is defined for a single class too; when there
    /// is no positive at all, neither actual nor predicted, scikit-learn's `zero_division` rule
    /// (its default "warn" acts as 0) gives 0.
    private func f1<Weights: RowWeights>(
        truth: [Double], predicted: [Double], weights: Weights
    ) throws(EvalError) -> Double {
        // Labels are 0 or 1, so products select without branches; integer weights sum exactly.
        var total = 0.0
        var actualPositives = 0.0
        var predictedPositives = 0.0
        var truePositives = 0.0
        for row in truth.indices {
            let weight = weights[row]
            let actual = weight * truth[row]
            total += weight
            actualPositives += actual
            predictedPositives += weight * predicted[row]
            truePositives += actual * predicted[row]
        }
        guard total > 0 else { throw Self.allWeightsZero }
        let denominator = actualPositives + predictedPositives
        return denominator == 0 ? 0 : 2 * truePositives / denominator
    }

    /// scikit-learn's r2_score with force_finite=True: 1 − SS_res / SS_tot, and when the targets
    /// are constant 1.0 for perfect predictions, else 0.0.
    ///
    /// One pass: with targets centred on their overall mean, SS_tot = Σw·d² − (Σw·d)²/Σw loses
    /// nothing to cancellation unless the weighted rows' own spread is tiny next to their
    /// distance from that mean, and then the exact two-pass form is used instead.
    private func r2<Weights: RowWeights>(
        truth: [Double], predictions: [Double], centered: [Double], squaredErrors: [Double],
        weights: Weights
    ) throws(EvalError) -> Double {
        var total = CompensatedSum()
        var deviation = CompensatedSum()
        var squaredDeviation = CompensatedSum()
        var residual = CompensatedSum()
        Self.forEachBlock(truth.count) { rows in
            var blockTotal = 0.0
            var blockDeviation = 0.0
            var blockSquaredDeviation = 0.0
            var blockResidual = 0.0
            for row in rows {
                let weight = weights[row]
                let d = centered[row]
                blockTotal += weight
                blockDeviation += weight * d
                blockSquaredDeviation += weight * d * d
                blockResidual += weight * squaredErrors[row]
            }
            total.add(blockTotal)
            deviation.add(blockDeviation)
            squaredDeviation.add(blockSquaredDeviation)
            residual.add(blockResidual)
        }
        let totalWeight = total.value
        guard totalWeight > 0 else { throw Self.allWeightsZero }
        let numerator = residual.value
        let denominator = squaredDeviation.value - deviation.value * deviation.value / totalWeight
        guard denominator > squaredDeviation.value * 1e-6 else {
            return twoPassR2(truth: truth, predictions: predictions, weights: weights)
        }
        return numerator == 0 ? 1 : 1 - numerator / denominator
    }

    /// r2 the direct way: the weighted mean first, then SS_tot around it; exact about constant
    /// targets (among the rows of non-zero weight).
    private func twoPassR2<Weights: RowWeights>(
        truth: [Double], predictions: [Double], weights: Weights
    ) -> Double {
        var total = CompensatedSum()
        var weightedTruth = CompensatedSum()
        var residual = CompensatedSum()
        var firstTruth: Double?
        var isConstant = true
        for row in truth.indices {
            let weight = weights[row]
            guard weight > 0 else { continue }
            let y = truth[row]
            let error = y - predictions[row]
            total.add(weight)
            weightedTruth.add(weight * y)
            residual.add(weight * error * error)
            if let firstTruth {
                if y != firstTruth { isConstant = false }
            } else {
                firstTruth = y
            }
        }
        let numerator = residual.value
        var denominator = 0.0
        if !isConstant {
            let mean = weightedTruth.value / total.value
            var spread = CompensatedSum()
            for row in truth.indices {
                let deviation = truth[row] - mean
                spread.add(weights[row] * deviation * deviation)
            }
            denominator = spread.value
        }
        if denominator == 0 {
            return numerator == 0 ? 1 : 0
        }
        return numerator == 0 ? 1 : 1 - numerator / denominator
    }

    /// Calls `body` with consecutive ranges of at most 256 rows covering `0..<count`: sums are
    /// taken plainly within a block (fast, and as accurate as numpy's pairwise blocks) and the
    /// block sums are added with compensation.
    @inline(__always)
    private static func forEachBlock(_ count: Int, _ body: (Range<Int>) -> Void) {
        var start = 0
        while start < count {
            let end = min(start + 256, count)
            body(start..<end)
            start = end
        }
    }

    // MARK: - Checks

    private static let allWeightsZero = EvalError("every row has weight 0; there is nothing to score")

    private func requireBothClasses<Weights: RowWeights>(
        positives: Double, negatives: Double, weights: Weights
    ) throws(EvalError) {
        guard positives > 0 && negatives > 0 else {
            let present = positives > 0 ? 1 : 0
            let rows = Weights.self == UnitWeights.self ? "targets" : "rows of non-zero weight"
            throw EvalError(
                "the \(rows) hold only class \(present): \(metric.displayName) is undefined", subject: .targets)
        }
    }

    private static func validate(predictions: [Double], for metric: EvalMetric) throws(EvalError) {
        guard let (first, rejected) = metric.rejectedPredictions(in: predictions) else { return }
        let value = predictions[first]
        let phrase = value.isFinite ? metric.rejectedPredictionPhrase : "not a finite number"
        throw EvalError(
            "prediction \(first + 1) is \(value), \(phrase): \(metric.displayName) needs "
                + "\(metric.predictionRequirement) (\(EvalFormat.count(rejected)) of "
                + "\(EvalFormat.count(predictions.count)) predictions are not)")
    }

    private static func ranking(truth: [Double], predictions: [Double]) -> Storage {
        let order = RadixSort.ascendingOrder(of: predictions)
        var positive = [Double](repeating: 0, count: order.count)
        var groupEnds: [Int] = []
        var previous = predictions[order[0]]
        for (position, row) in order.enumerated() {
            positive[position] = truth[row]
            if predictions[row] != previous {
                groupEnds.append(position)
                previous = predictions[row]
            }
        }
        groupEnds.append(order.count)
        return .ranking(order: order, positive: positive, groupEnds: groupEnds)
    }
}
