import Foundation
import MLAgentEval
import MLAgentProtocol
import Synchronization

/// Scores predictions against the targets only the daemon can read (`<state>/targets`,
/// mode 0600). Targets are parsed once and kept in memory.
final class Evaluator: Sendable {
    enum Split: String, Sendable {
        case `public`, `private`

        var targetFile: String { "val_\(rawValue)_y.csv" }
        var featureFile: String { "val_\(rawValue)_X.csv" }
    }

    struct Score: Sendable {
        var value: Double
        var interval: MLAgentProtocol.ScoreInterval?
        var rows: Int
    }

    let metric: EvalMetric
    let targetsDir: String
    let bootstrapSamples: Int
    private let targets = Mutex<[Split: [Double]]>([:])

    init(metric: EvalMetric, targetsDir: String, bootstrapSamples: Int) {
        self.metric = metric
        self.targetsDir = targetsDir
        self.bootstrapSamples = bootstrapSamples
    }

    /// The targets of `split`, read on first use.
    func truth(_ split: Split) throws -> [Double] {
        if let cached = targets.withLock({ $0[split] }) { return cached }
        let path = (targetsDir as NSString).appendingPathComponent(split.targetFile)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RPCError(
                .invalidState,
                "the daemon has no \(split.rawValue) targets (\(split.targetFile) was not in the data directory when the workspace was created); the operator must add it to \(targetsDir)")
        }
        let values: [Double]
        do {
            values = try PredictionsCSV.parseTargets(data, name: split.targetFile)
        } catch {
            throw RPCError(.internalError, "the \(split.rawValue) targets are unusable: \(error.message)")
        }
        targets.withLock { $0[split] = values }
        return values
    }

    /// Parses and scores a predictions file, with a bootstrap interval seeded by `seed` (so a
    /// score's interval is reproducible).
    func score(_ data: Data, name: String, split: Split, seed: UInt64) throws -> Score {
        let truth = try truth(split)
        do {
            let predictions = try PredictionsCSV.parse(
                data, expectedRows: truth.count, metric: metric, name: name, rowsFile: split.featureFile)
            let value = try metric.score(truth: truth, predictions: predictions)
            var interval: MLAgentProtocol.ScoreInterval?
            if bootstrapSamples > 0 {
                let computed = Bootstrap.interval(
                    metric: metric, truth: truth, predictions: predictions, samples: bootstrapSamples, confidence: 0.95,
                    seed: seed)
                if computed.samples > 0, computed.low.isFinite, computed.high.isFinite {
                    interval = MLAgentProtocol.ScoreInterval(
                        low: computed.low, high: computed.high, confidence: computed.confidence, samples: computed.samples)
                }
            }
            return Score(value: value, interval: interval, rows: truth.count)
        } catch {
            throw RPCError(.invalidPredictions, error.message, context: ["file": .string(name)])
        }
    }
}
