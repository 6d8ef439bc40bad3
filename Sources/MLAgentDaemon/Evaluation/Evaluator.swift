import Foundation
import Logging
import MLAgentEval
import MLAgentProtocol
import Synchronization

/// Scores predictions against the targets only the daemon can read (`<state>/targets`,
/// mode 0600). Targets are checked against the metric when the daemon starts
/// (``TargetCheck``) and kept in memory.
///
/// Nothing an agent receives from here states a fact about the targets: problems with the
/// targets are the operator's, logged with the file, and the agent is told only that the split
/// cannot be scored now.
final class Evaluator: Sendable {
    enum Split: String, Sendable, CaseIterable {
        case `public`, `private`

        var targetFile: String { "val_\(rawValue)_y.csv" }
        var featureFile: String { "val_\(rawValue)_X.csv" }
    }

    struct Score: Sendable {
        var value: Double
        var interval: MLAgentProtocol.ScoreInterval?
        var rows: Int
        /// The parsed predictions, kept with a public evaluation for paired comparisons.
        var predictions: [Double]
    }

    let metric: EvalMetric
    let targetsDir: String
    let bootstrapSamples: Int
    let logger: Logger
    private let targets = Mutex<[Split: [Double]]>([:])

    init(metric: EvalMetric, targetsDir: String, bootstrapSamples: Int, logger: Logger = Logger(label: "mlagentd.eval")) {
        self.metric = metric
        self.targetsDir = targetsDir
        self.bootstrapSamples = bootstrapSamples
        self.logger = logger
    }

    /// Keeps targets already read and checked (by ``TargetCheck`` at start).
    func preload(_ checked: [Split: [Double]]) {
        targets.withLock { $0.merge(checked) { _, new in new } }
    }

    /// The targets of `split`, read and checked on first use when they were not preloaded.
    func truth(_ split: Split) throws -> [Double] {
        if let cached = targets.withLock({ $0[split] }) { return cached }
        let path = (targetsDir as NSString).appendingPathComponent(split.targetFile)
        guard let data = FileManager.default.contents(atPath: path) else {
            logger.error(
                "cannot score the \(split.rawValue) split: its targets are missing; add \(split.targetFile) to the targets directory and restart",
                metadata: ["file": "\(path)"])
            throw Self.unavailable(split)
        }
        do {
            let values = try TargetCheck.parse(data, file: path, metric: metric)
            targets.withLock { $0[split] = values }
            return values
        } catch {
            logger.error("cannot score the \(split.rawValue) split: \(error)", metadata: ["file": "\(path)"])
            throw Self.unavailable(split)
        }
    }

    /// What an agent is told when a split cannot be scored because of its targets.
    static func unavailable(_ split: Split) -> RPCError {
        RPCError(
            .invalidState,
            "the daemon cannot score the \(split.rawValue) split at the moment (a problem on the operator's side, reported in the daemon's log); nothing was spent, try again later")
    }

    /// Refuses an interval whose bounds overflowed.
    private func requireFinite(_ interval: MLAgentEval.ScoreInterval, predictions: [Double]) throws(EvalError) {
        guard interval.isFinite else { throw metric.overflowError(predictions: predictions, interval: true) }
    }

    /// Parses and scores a predictions file, with a bootstrap interval seeded by `seed` (so a
    /// score's interval is reproducible). The score and the interval's bounds are finite: when
    /// the predictions make either overflow, they are refused.
    /// `withInterval: false` skips the bootstrap (a score only compared, never recorded).
    func score(_ data: Data, name: String, split: Split, seed: UInt64, withInterval: Bool = true) throws -> Score {
        let truth = try truth(split)
        do {
            let predictions = try PredictionsCSV.parse(
                data, expectedRows: truth.count, metric: metric, name: name, rowsFile: split.featureFile)
            let value = try metric.score(truth: truth, predictions: predictions)
            var interval: MLAgentProtocol.ScoreInterval?
            if bootstrapSamples > 0, withInterval {
                let computed = Bootstrap.interval(
                    metric: metric, truth: truth, predictions: predictions, samples: bootstrapSamples, confidence: 0.95,
                    seed: seed)
                if computed.samples > 0 {
                    try requireFinite(computed, predictions: predictions)
                    interval = MLAgentProtocol.ScoreInterval(
                        low: computed.low, high: computed.high, confidence: computed.confidence, samples: computed.samples)
                }
            }
            return Score(value: value, interval: interval, rows: truth.count, predictions: predictions)
        } catch where error.subject == .targets {
            // Unreachable with targets checked at start; never tell the agent what it says.
            logger.error(
                "cannot score the \(split.rawValue) split: \(error.message)", metadata: ["file": "\(split.targetFile)"])
            throw Self.unavailable(split)
        } catch {
            throw RPCError(.invalidPredictions, error.message, context: ["file": .string(name)])
        }
    }
}
