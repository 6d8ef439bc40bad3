import Foundation
import MLAgentEval
import Testing

@Suite struct BootstrapTests {
    /// A binary problem with informative, noisy probabilities.
    private func binaryProblem(rows: Int, seed: UInt64) -> (truth: [Double], predictions: [Double]) {
        var generator = SplitMix(seed: seed)
        var truth: [Double] = []
        var predictions: [Double] = []
        for _ in 0..<rows {
            let label = Double(generator.next() % 2)
            truth.append(label)
            predictions.append(min(max(0.3 * label + 0.7 * generator.unit(), 0), 1))
        }
        return (truth, predictions)
    }

    private func regressionProblem(rows: Int, seed: UInt64) -> (truth: [Double], predictions: [Double]) {
        var generator = SplitMix(seed: seed)
        let truth = (0..<rows).map { _ in 10 * generator.unit() }
        return (truth, truth.map { $0 + generator.unit() - 0.5 })
    }

    private func problem(for metric: EvalMetric, rows: Int, seed: UInt64) -> (truth: [Double], predictions: [Double]) {
        if !metric.isClassification { return regressionProblem(rows: rows, seed: seed) }
        let (truth, probabilities) = binaryProblem(rows: rows, seed: seed)
        return (truth, metric.needsLabels ? probabilities.map { $0 >= 0.5 ? 1 : 0 } : probabilities)
    }

    @Test func matchesThePythonReference() throws {
        for reference in try SklearnFixture.load().bootstraps {
            let metric = try #require(EvalMetric(rawValue: reference.metric))
            let interval = Bootstrap.interval(
                metric: metric, truth: reference.y_true, predictions: reference.y_pred,
                samples: reference.samples, confidence: reference.confidence, seed: reference.seed)
            #expect(interval.samples == reference.expected_samples, "\(metric) seed \(reference.seed)")
            #expect(abs(interval.low - reference.expected_low) <= 1e-9, "\(metric): \(interval)")
            #expect(abs(interval.high - reference.expected_high) <= 1e-9, "\(metric): \(interval)")
            #expect(interval.confidence == reference.confidence)
        }
    }

    @Test func deterministicForASeed() {
        let (truth, predictions) = binaryProblem(rows: 500, seed: 1)
        let first = Bootstrap.interval(metric: .rocAUC, truth: truth, predictions: predictions, samples: 300, seed: 11)
        let second = Bootstrap.interval(metric: .rocAUC, truth: truth, predictions: predictions, samples: 300, seed: 11)
        let other = Bootstrap.interval(metric: .rocAUC, truth: truth, predictions: predictions, samples: 300, seed: 12)
        #expect(first == second)
        #expect(first != other)
        #expect(first.samples == 300 && first.confidence == 0.95)
    }

    @Test(arguments: EvalMetric.allCases)
    func containsThePointEstimate(_ metric: EvalMetric) throws {
        let (truth, predictions) = problem(for: metric, rows: 2000, seed: 5)
        let point = try metric.score(truth: truth, predictions: predictions)
        let interval = Bootstrap.interval(metric: metric, truth: truth, predictions: predictions, seed: 2024)
        #expect(interval.samples == 1000)
        #expect(interval.low <= point && point <= interval.high, "\(metric): \(point) not in \(interval)")
        #expect(interval.low < interval.high)
    }

    @Test(arguments: [EvalMetric.rocAUC, .logLoss, .rmse])
    func narrowsWithMoreRows(_ metric: EvalMetric) {
        func width(_ rows: Int) -> Double {
            let (truth, predictions) = problem(for: metric, rows: rows, seed: 8)
            let interval = Bootstrap.interval(
                metric: metric, truth: truth, predictions: predictions, samples: 400, seed: 3)
            return interval.high - interval.low
        }
        let small = width(200)
        let large = width(5000)
        #expect(large < small / 2, "\(metric): width \(large) at 5,000 rows vs \(small) at 200")
    }

    @Test func higherConfidenceIsWider() {
        let (truth, predictions) = binaryProblem(rows: 1000, seed: 4)
        let narrow = Bootstrap.interval(
            metric: .rocAUC, truth: truth, predictions: predictions, samples: 500, confidence: 0.5, seed: 1)
        let wide = Bootstrap.interval(
            metric: .rocAUC, truth: truth, predictions: predictions, samples: 500, confidence: 0.99, seed: 1)
        #expect(wide.low < narrow.low && narrow.high < wide.high)
    }

    @Test func oneClassReplicatesAreSkipped() {
        // One negative among five rows: about a third of the resamples miss it.
        let interval = Bootstrap.interval(
            metric: .rocAUC, truth: [0, 1, 1, 1, 1], predictions: [0.3, 0.2, 0.6, 0.7, 0.9], samples: 500, seed: 9)
        #expect(interval.samples > 200 && interval.samples < 500)
        #expect(interval.low >= 0 && interval.high <= 1 && interval.low <= interval.high)

        // F1 is defined for one class (scikit-learn's zero_division rule): no replicate is skipped.
        let f1 = Bootstrap.interval(metric: .f1, truth: [1, 0, 0, 0], predictions: [1, 0, 1, 0], samples: 200, seed: 9)
        #expect(f1.samples == 200 && f1.low >= 0 && f1.high <= 1)
    }

    @Test func unscorableInputGivesNoSamples() {
        let oneClass = Bootstrap.interval(metric: .rocAUC, truth: [1, 1, 1], predictions: [0.1, 0.5, 0.9], seed: 1)
        #expect(oneClass.samples == 0 && oneClass.low.isNaN && oneClass.high.isNaN)
        let mismatched = Bootstrap.interval(metric: .mae, truth: [1, 2], predictions: [1], seed: 1)
        #expect(mismatched.samples == 0)
        let empty = Bootstrap.interval(metric: .mae, truth: [], predictions: [], seed: 1)
        #expect(empty.samples == 0)
        let noSamples = Bootstrap.interval(metric: .mae, truth: [1, 2], predictions: [1, 2], samples: 0, seed: 1)
        #expect(noSamples.samples == 0)
    }

    @Test func codableRoundTrip() throws {
        let interval = ScoreInterval(low: 0.81, high: 0.84, samples: 1000, confidence: 0.95)
        let data = try JSONEncoder().encode(interval)
        #expect(try JSONDecoder().decode(ScoreInterval.self, from: data) == interval)
    }
}
