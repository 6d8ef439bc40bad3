// MLAgentEval: pure evaluation code for mlagentd.
//
// The module owns metric definitions (scikit-learn compatible to 1e-9), parsing of the
// predictions and targets CSV files, and bootstrap confidence intervals. It performs no I/O, keeps
// no state and depends on Foundation only; reading files (and protecting the targets) is the
// daemon's job.

/// A metric the daemon can score predictions with.
///
/// `EvalMetric` owns what each metric means: its direction, what kind of predictions it needs, and
/// how it is computed. The computation matches scikit-learn (`roc_auc_score`, `log_loss`,
/// `accuracy_score`, `f1_score`, `root_mean_squared_error`, `mean_absolute_error`, `r2_score`) to
/// 1e-9 for binary 0/1 targets (the multi-class case is supported by `accuracy` only).
public enum EvalMetric: String, CaseIterable, Sendable, Codable {
    case rocAUC = "roc_auc"
    case logLoss = "log_loss"
    case accuracy
    case f1
    case rmse
    case mae
    case r2

    /// Whether a larger score is better (false for the losses and errors).
    public var higherIsBetter: Bool {
        switch self {
        case .logLoss, .rmse, .mae: false
        case .rocAUC, .accuracy, .f1, .r2: true
        }
    }

    /// Whether predictions must be probabilities of class 1, in [0, 1].
    public var needsProbabilities: Bool {
        switch self {
        case .rocAUC, .logLoss: true
        case .accuracy, .f1, .rmse, .mae, .r2: false
        }
    }

    /// Whether predictions must be class labels: exactly 0 or 1 for `f1`, any integer-valued
    /// number for `accuracy`.
    public var needsLabels: Bool {
        switch self {
        case .accuracy, .f1: true
        case .rocAUC, .logLoss, .rmse, .mae, .r2: false
        }
    }

    /// Whether the targets are class labels (as opposed to real-valued regression targets).
    public var isClassification: Bool {
        switch self {
        case .rocAUC, .logLoss, .accuracy, .f1: true
        case .rmse, .mae, .r2: false
        }
    }

    /// The name used in messages, for example "ROC AUC".
    public var displayName: String {
        switch self {
        case .rocAUC: "ROC AUC"
        case .logLoss: "log loss"
        case .accuracy: "accuracy"
        case .f1: "F1"
        case .rmse: "RMSE"
        case .mae: "MAE"
        case .r2: "R²"
        }
    }

    /// Scores `predictions` against `truth`, row by row.
    ///
    /// Binary metrics (`roc_auc`, `log_loss`, `f1`) need targets that are 0 or 1, with both
    /// classes present for `roc_auc` and `log_loss`; `accuracy` needs integer-valued targets
    /// (``targetProblem(_:)`` says why targets do not fit). Predictions must satisfy
    /// ``needsProbabilities`` / ``needsLabels``, and every value must be finite. The score is
    /// always finite: when the arithmetic overflows a 64-bit float (errors so large that their
    /// sum or square exceeds 1.8e308), this throws instead.
    public func score(truth: [Double], predictions: [Double]) throws(EvalError) -> Double {
        let kernel = try MetricKernel(metric: self, truth: truth, predictions: predictions)
        return try finite(try kernel.score(weights: UnitWeights()), predictions: predictions)
    }

    /// `value` when it is finite; else the error that says the predictions made the metric
    /// overflow. It names the agent's own largest prediction, nothing about the targets: the
    /// daemon refuses at start targets on which predicting their mean would overflow.
    func finite(_ value: Double, predictions: [Double]) throws(EvalError) -> Double {
        guard !value.isFinite else { return value }
        throw overflowError(predictions: predictions)
    }

    /// The error for predictions with which the score (or, with `interval`, its bootstrap
    /// interval) overflows a 64-bit float.
    public func overflowError(predictions: [Double], interval: Bool = false) -> EvalError {
        let largest = predictions.indices.max { abs(predictions[$0]) < abs(predictions[$1]) } ?? 0
        let what = interval ? "the 95% bootstrap interval of \(displayName)" : displayName
        return EvalError(
            "these predictions cannot be scored: with them \(what) overflows a 64-bit float (the predictions' "
                + "values are so large, or so far off, that the sums of their errors exceed 1.8e308). The largest "
                + "in magnitude is prediction \(largest + 1), \(predictions.isEmpty ? 0 : predictions[largest]); "
                + "give predictions on the scale of the quantity being predicted")
    }

    /// Scores with non-negative row weights, like scikit-learn's `sample_weight=`.
    ///
    /// With integer weights the result equals the unweighted score of the rows repeated that many
    /// times; this is how a bootstrap replicate (the same rows with multinomial counts) is scored.
    /// Rows of weight 0 take no part, also in deciding whether both classes are present.
    public func score(truth: [Double], predictions: [Double], weights: [Double]) throws(EvalError) -> Double {
        let kernel = try MetricKernel(metric: self, truth: truth, predictions: predictions)
        guard weights.count == truth.count else {
            throw EvalError(
                "there are \(EvalFormat.count(weights.count)) weights for \(EvalFormat.count(truth.count)) rows; "
                    + "give one weight per row")
        }
        for (index, weight) in weights.enumerated() where !(weight.isFinite && weight >= 0) {
            throw EvalError(
                "weight \(index + 1) is \(weight); weights must be finite and non-negative (row counts)")
        }
        let value = try weights.withUnsafeBufferPointer { (buffer) throws(EvalError) -> Double in
            try kernel.score(weights: BufferWeights(buffer: buffer))
        }
        return try finite(value, predictions: predictions)
    }

    /// Whether a single prediction is acceptable for this metric (finite and, where required, a
    /// probability or a class label).
    func accepts(prediction value: Double) -> Bool {
        guard value.isFinite else { return false }
        switch self {
        case .rocAUC, .logLoss: return value >= 0 && value <= 1
        case .f1: return value == 0 || value == 1
        case .accuracy: return value == value.rounded(.towardZero)
        case .rmse, .mae, .r2: return true
        }
    }

    /// The index of the first prediction ``accepts(prediction:)`` rejects, and how many it
    /// rejects in all; nil when it accepts every one. One tight loop per metric.
    func rejectedPredictions(in predictions: [Double]) -> (first: Int, count: Int)? {
        let first: Int?
        switch self {
        case .rocAUC, .logLoss: first = predictions.firstIndex { !($0 >= 0 && $0 <= 1) }
        case .f1: first = predictions.firstIndex { $0 != 0 && $0 != 1 }
        case .accuracy: first = predictions.firstIndex { !($0.isFinite && $0 == $0.rounded(.towardZero)) }
        case .rmse, .mae, .r2: first = predictions.firstIndex { !$0.isFinite }
        }
        guard let first else { return nil }
        return (first, predictions[first...].count { !accepts(prediction: $0) })
    }

    /// The target column as a prompt names it: "the label column `target` (class 0 or 1)" for
    /// the binary metrics, "the target column `target` (a real value: regression)" for the others.
    public var targetColumnDescription: String {
        switch self {
        case .rocAUC, .logLoss, .f1: "the label column `target` (class 0 or 1)"
        case .accuracy: "the label column `target` (integer class labels)"
        case .rmse, .mae, .r2: "the target column `target` (a real value to predict: this is regression)"
        }
    }

    /// What a prediction must be, as a prompt says it: "probabilities of class 1, in [0, 1]".
    public var predictionDescription: String {
        switch self {
        case .rocAUC, .logLoss: "probabilities of class 1, in [0, 1]"
        case .f1: "predicted class labels, 0 or 1 (not probabilities)"
        case .accuracy: "predicted class labels, integers (not probabilities)"
        case .rmse, .mae, .r2: "predicted values, finite numbers on the target's scale"
        }
    }

    /// What ``accepts(prediction:)`` requires, phrased for messages: "\(metric) needs …".
    var predictionRequirement: String {
        switch self {
        case .rocAUC, .logLoss: "a probability of class 1 in [0, 1] per row"
        case .f1: "predicted class labels, 0 or 1 (not probabilities)"
        case .accuracy: "predicted class labels, integers such as 0 or 1 (not probabilities)"
        case .rmse, .mae, .r2: "a finite number per row"
        }
    }

    /// How a prediction rejected by ``accepts(prediction:)`` is described: "1.2 is …".
    var rejectedPredictionPhrase: String {
        switch self {
        case .rocAUC, .logLoss: "outside [0, 1]"
        case .f1, .accuracy: "not a class label"
        case .rmse, .mae, .r2: "not finite"
        }
    }
}
