import MLAgentEval
import Testing

/// Targets against the metric (checked by the daemon at start, for the operator) and scores that
/// overflow a 64-bit float (refused, with a message about the predictions only).
@Suite struct TargetCheckTests {
    @Test func targetsThatDoNotFitTheMetric() throws {
        let signs = try #require(EvalMetric.rocAUC.targetProblem([-1, 1, 1, -1, 1]))
        #expect(signs.hasPrefix("ROC AUC needs targets that are 0 or 1"), "\(signs)")
        #expect(signs.contains("2 of 5 are not") && signs.contains("line 2 holds -1.0"), "\(signs)")
        let twoLabels = try #require(EvalMetric.logLoss.targetProblem([1, 2, 2, 1]))
        #expect(twoLabels.contains("2 of 4 are not") && twoLabels.contains("the values include 1.0, 2.0"), "\(twoLabels)")
        #expect(EvalMetric.rocAUC.targetProblem([1, 1, 1])?.contains("every target is 1") == true)
        #expect(EvalMetric.logLoss.targetProblem([0, 0])?.contains("single class") == true)
        #expect(EvalMetric.accuracy.targetProblem([0, 0.5])?.contains("integer class labels") == true)
        #expect(EvalMetric.r2.targetProblem([3])?.contains("single target row") == true)
        #expect(EvalMetric.mae.targetProblem([1, .infinity])?.contains("not finite") == true)
        #expect(EvalMetric.rmse.targetProblem([])?.contains("no target rows") == true)
    }

    @Test func targetsThatFit() {
        // scikit-learn defines F1 for a single class (zero_division) and accuracy for many.
        #expect(EvalMetric.f1.targetProblem([0, 0, 0]) == nil)
        #expect(EvalMetric.f1.targetProblem([1, 1]) == nil)
        #expect(EvalMetric.accuracy.targetProblem([0, 3, 2]) == nil)
        #expect(EvalMetric.rocAUC.targetProblem([0, 1]) == nil)
        #expect(EvalMetric.rmse.targetProblem([1e150, 1e150 + 1e136, 1e150 - 1e136]) == nil)
        #expect(EvalMetric.r2.targetProblem([1e14 + 0.5, 1e14 - 0.5]) == nil)
    }

    @Test func regressionTargetsSoLargeThatTheMeanOverflows() throws {
        // Squared deviations of 1e185 exceed 1.8e308: no prediction could be scored.
        let targets = [1e200, 1e200 + 1e185, 1e200 - 1e185]
        for metric in [EvalMetric.rmse, .r2] {
            let problem = try #require(metric.targetProblem(targets), "\(metric)")
            #expect(problem.contains("too large for \(metric.displayName)") && problem.contains("rescale"), "\(problem)")
        }
        #expect(EvalMetric.mae.targetProblem([1.7e308, -1.7e308]) != nil)
    }

    @Test func targetErrorsAreTheOperators() throws {
        for (metric, truth) in [(EvalMetric.rocAUC, [-1.0, 1]), (.logLoss, [1, 2]), (.rocAUC, [1, 1]), (.r2, [4])] {
            do {
                _ = try metric.score(truth: truth, predictions: truth.map { _ in 0.5 })
                Issue.record("\(metric) scored targets \(truth)")
            } catch {
                #expect(error.subject == .targets, "\(metric): \(error.message)")
            }
        }
        do {
            _ = try EvalMetric.rocAUC.score(truth: [0, 1], predictions: [0.5, 2])
        } catch {
            #expect(error.subject == .predictions)
        }
    }

    /// MAE of 1e308 against 0, RMSE and R² far from their targets: the score would be infinite.
    @Test(arguments: [
        (EvalMetric.mae, [0.0, 0, 0], [1e308, 1e308, 1e308]),
        (.rmse, [1.0, 2, 3], [1e200, -1e200, 1e200]),
        (.r2, [1.0, 2, 3], [1e200, -1e200, 1e200]),
    ])
    func overflowingScoresAreRefused(metric: EvalMetric, truth: [Double], predictions: [Double]) {
        do {
            let score = try metric.score(truth: truth, predictions: predictions)
            Issue.record("\(metric) gave \(score)")
        } catch {
            #expect(error.subject == .predictions)
            #expect(error.message.contains("\(metric.displayName) overflows a 64-bit float"), "\(error.message)")
            #expect(error.message.contains("values are so large"), "\(error.message)")
            #expect(!error.message.contains("target"), "the message must not speak of the targets: \(error.message)")
        }
        let weights = truth.map { _ in 2.0 }
        #expect(throws: EvalError.self) { try metric.score(truth: truth, predictions: predictions, weights: weights) }
    }

    @Test func overflowingReplicatesMakeTheIntervalNonFinite() {
        let interval = Bootstrap.interval(
            metric: .mae, truth: [0, 0, 0, 0], predictions: [1e308, 1e308, 1e308, 1e308], samples: 50, seed: 4)
        #expect(interval.samples == 50 && !interval.isFinite)
        let fine = Bootstrap.interval(metric: .mae, truth: [0, 1, 2, 3], predictions: [1, 1, 1, 1], samples: 50, seed: 4)
        #expect(fine.isFinite)
        let message = EvalMetric.mae.overflowError(predictions: [1, -1e308], interval: true).message
        #expect(message.contains("the 95% bootstrap interval of MAE overflows") && message.contains("prediction 2, -1e+308"))
    }
}
