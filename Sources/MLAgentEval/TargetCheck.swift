/// Whether the targets of a split fit a metric.
///
/// The daemon runs this check when it starts (and before it creates a workspace), so targets that
/// do not fit the configured metric stop the daemon with a message for the operator instead of
/// turning into scoring errors that an agent would read. The messages may therefore describe the
/// targets (counts, values, rows); they are never meant for an agent.
extension EvalMetric {
    /// Why `targets` cannot be scored with this metric, phrased for the operator ("ROC AUC needs
    /// targets that are 0 or 1, but 2 of 5 are not (…)"); nil when they can.
    ///
    /// Beyond the values themselves (finite; 0 or 1 for `roc_auc`, `log_loss` and `f1`; integers
    /// for `accuracy`), it checks what scikit-learn cannot score either: a single class for
    /// `roc_auc` (undefined) and `log_loss` (refused without explicit labels), a single row for
    /// `r2`, and regression targets so large that even predicting their mean overflows a 64-bit
    /// float. F1 with a single class is defined (scikit-learn's `zero_division` rule gives 0 when
    /// there is no positive at all), and so is accuracy.
    public func targetProblem(_ targets: [Double]) -> String? {
        if let problem = Self.valueProblem(targets, for: self) { return problem }
        switch self {
        case .rocAUC, .logLoss:
            let positives = targets.count { $0 == 1 }
            if positives == 0 || positives == targets.count {
                let only = positives == 0 ? 0 : 1
                return "every target is \(only): \(displayName) is undefined with a single class "
                    + "(scikit-learn refuses it too); the split needs both classes"
            }
        case .r2 where targets.count < 2:
            return "there is a single target row: R² is undefined for one row"
        case .rmse, .mae, .r2:
            var mean = 0.0
            let share = 1 / Double(targets.count)
            for y in targets { mean += y * share }
            let constant = [Double](repeating: mean, count: targets.count)
            let score = (try? MetricKernel(metric: self, truth: targets, predictions: constant))
                .flatMap { try? $0.score(weights: UnitWeights()) }
            if !(mean.isFinite && (score?.isFinite ?? false)) {
                let largest = targets.indices.max { abs(targets[$0]) < abs(targets[$1]) } ?? 0
                return "the targets are too large for \(displayName) in 64-bit floating point: even predicting "
                    + "their mean overflows (the largest, \(targets[largest]), is on line \(largest + 2)); "
                    + "rescale the targets (and say so in the task) or choose another metric"
            }
        case .accuracy, .f1:
            break
        }
        return nil
    }

    /// The checks on each value (finite, and a class label where the metric needs one); the
    /// scoring code applies them too.
    static func valueProblem(_ targets: [Double], for metric: EvalMetric) -> String? {
        guard !targets.isEmpty else { return "there are no target rows" }
        if let first = targets.firstIndex(where: { !$0.isFinite }) {
            let count = targets.count { !$0.isFinite }
            return "\(EvalFormat.count(count)) of \(EvalFormat.count(targets.count)) targets are not finite "
                + "(line \(first + 2) holds \(targets[first]))"
        }
        let rejects: (Double) -> Bool
        let requirement: String
        switch metric {
        case .rocAUC, .logLoss, .f1:
            rejects = { $0 != 0 && $0 != 1 }
            requirement = "targets that are 0 or 1 (the predictions are "
                + (metric == .f1 ? "labels" : "probabilities") + " of class 1)"
        case .accuracy:
            rejects = { $0 != $0.rounded(.towardZero) }
            requirement = "integer class labels as targets"
        case .rmse, .mae, .r2:
            return nil
        }
        guard let first = targets.firstIndex(where: rejects) else { return nil }
        let count = targets.count(where: rejects)
        var seen: [Double] = []
        for value in targets where !seen.contains(value) {
            seen.append(value)
            if seen.count > 6 { break }
        }
        let values = seen.prefix(6).map { "\($0)" }.joined(separator: ", ") + (seen.count > 6 ? ", …" : "")
        let remedy = metric == .accuracy ? "give integer labels such as 0, 1, 2" : "map the labels to 0 and 1"
        return "\(metric.displayName) needs \(requirement), but \(EvalFormat.count(count)) of "
            + "\(EvalFormat.count(targets.count)) are not (line \(first + 2) holds \(targets[first]); "
            + "the values include \(values)); \(remedy), or choose a metric that fits them"
    }
}
