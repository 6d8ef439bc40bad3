import Foundation
import Logging
import MLAgentEval
import MLAgentProtocol
import MLAgentStore
import Synchronization

/// Compares runs on the public rows with a paired bootstrap (``PairedBootstrap``) of the
/// predictions their public scores were computed from, for `report.compare` and the
/// leaderboard's `vs_leader`.
///
/// Results are cached in memory by the pair of evaluations and the resample count: a run
/// evaluated again has a new latest evaluation, so its comparisons are recomputed, and a
/// leaderboard of N directions costs N − 1 bootstraps once, not on every call. A pair is
/// computed once even when several requests ask for it at the same time (they await one task).
/// The seed depends on the pair only, not on its order, so comparing B with A gives exactly the
/// reverse of A with B.
final class RunComparer: Sendable {
    let store: Store
    let evaluator: Evaluator
    let logger: Logger
    /// Pairs kept before the cache is emptied (a bound on memory; each entry is a few numbers).
    static let maxCached = 10_000

    private struct Key: Hashable {
        var first: Int64
        var second: Int64
        var samples: Int
    }

    private let cache = Mutex<[Key: Task<PairedComparison, any Error>]>([:])

    init(store: Store, evaluator: Evaluator, logger: Logger) {
        self.store = store
        self.evaluator = evaluator
        self.logger = logger
    }

    /// How many comparisons have been computed or are being computed (for tests).
    var cachedPairs: Int { cache.withLock { $0.count } }

    /// `a` against `b`: metric(a) − metric(b) on the public rows, with its paired interval.
    func compare(_ a: Store.PublicPredictions, _ b: Store.PublicPredictions) async throws -> PairedComparison {
        let samples = evaluator.bootstrapSamples
        let flipped = a.evaluationID > b.evaluationID
        let (first, second) = flipped ? (b, a) : (a, b)
        let key = Key(first: first.evaluationID, second: second.evaluationID, samples: samples)
        let task = cache.withLock { cache -> Task<PairedComparison, any Error> in
            if let existing = cache[key] { return existing }
            if cache.count >= Self.maxCached { cache.removeAll() }
            let evaluator = evaluator
            let task = Task.detached(priority: .utility) { () throws -> PairedComparison in
                let truth = try evaluator.truth(.public)
                do {
                    return try PairedBootstrap.compare(
                        metric: evaluator.metric, truth: truth, a: first.values, b: second.values, samples: samples,
                        confidence: 0.95, seed: Self.seed(first.evaluationID, second.evaluationID))
                } catch {
                    // Both vectors were scored when they were recorded; only targets changed under
                    // the daemon (or a damaged database) gets here. Never tell the caller why.
                    throw RPCError(
                        .invalidState,
                        "runs \(first.run) and \(second.run) cannot be compared at the moment (a problem on the operator's side, reported in the daemon's log)")
                }
            }
            cache[key] = task
            return task
        }
        do {
            let comparison = try await task.value
            return flipped ? comparison.reversed : comparison
        } catch {
            cache.withLock { cache in cache[key] = nil }
            logger.warning(
                "paired comparison failed: \(error)", metadata: ["run_a": "\(a.run)", "run_b": "\(b.run)"])
            throw error
        }
    }

    /// The `report.compare` result for runs `runA` and `runB`.
    func compare(runA: Int64, runB: Int64, policy: EvaluationPolicy) async throws -> RunComparison {
        let a = try await store.publicPredictions(run: runA)
        let b = try await store.publicPredictions(run: runB)
        let comparison = try await compare(a, b)
        let interval = Self.interval(comparison)
        let probability = comparison.samples > 0 ? comparison.probabilityABetter : nil
        return RunComparison(
            runA: runA, runB: runB, directionA: a.direction, directionB: b.direction, metric: policy.metric,
            higherIsBetter: policy.higherIsBetter, rows: a.values.count, scoreA: a.score, scoreB: b.score,
            difference: comparison.difference, interval: interval, probabilityABetter: probability,
            distinguishable: comparison.distinguishable,
            verdict: Self.verdict(runA: runA, runB: runB, comparison: comparison, policy: policy))
    }

    /// Each ranked direction's best run against the leader's; entries whose runs cannot be
    /// compared (no kept predictions, targets unavailable) keep `vs_leader` empty.
    func annotate(_ board: Leaderboard) async -> Leaderboard {
        var board = board
        guard let leader = board.directions.first, let leaderRun = leader.bestRun, leader.publicScore != nil,
            let leaderPredictions = try? await store.publicPredictions(run: leaderRun)
        else { return board }
        for index in board.directions.indices.dropFirst() {
            guard let run = board.directions[index].bestRun,
                let predictions = try? await store.publicPredictions(run: run),
                let comparison = try? await compare(predictions, leaderPredictions)
            else { continue }
            board.directions[index].vsLeader = LeaderComparison(
                leaderRun: leaderRun, difference: comparison.difference, interval: Self.interval(comparison),
                probabilityBetter: comparison.samples > 0 ? comparison.probabilityABetter : nil,
                distinguishable: comparison.distinguishable)
        }
        return board
    }

    static func interval(_ comparison: PairedComparison) -> MLAgentProtocol.ScoreInterval? {
        guard comparison.samples > 0, comparison.low.isFinite, comparison.high.isFinite else { return nil }
        return MLAgentProtocol.ScoreInterval(
            low: comparison.low, high: comparison.high, confidence: comparison.confidence, samples: comparison.samples)
    }

    /// The same seed for (x, y) and (y, x).
    static func seed(_ x: Int64, _ y: Int64) -> UInt64 {
        let (low, high) = (UInt64(bitPattern: min(x, y)), UInt64(bitPattern: max(x, y)))
        return (low &* 0x9E37_79B9_7F4A_7C15) ^ (high &* 0xBF58_476D_1CE4_E5B9) &+ 3
    }

    /// The comparison in one sentence.
    static func verdict(runA: Int64, runB: Int64, comparison: PairedComparison, policy: EvaluationPolicy) -> String {
        let difference = String(format: "%+.4f", comparison.difference)
        guard comparison.samples > 0, comparison.low.isFinite, comparison.high.isFinite else {
            return "run \(runA) − run \(runB) = \(difference) in \(policy.metric) on the public rows; no bootstrap interval ([evaluation] bootstrap_samples is 0), so nothing can be said about significance"
        }
        let range = String(format: "%+.4f to %+.4f", comparison.low, comparison.high)
        let share = String(format: "%.1f%%", 100 * comparison.probabilityABetter)
        let resamples = "\(comparison.samples) paired resamples"
        guard comparison.distinguishable else {
            return "runs \(runA) and \(runB) are indistinguishable on the public rows: the 95% interval of the difference in \(policy.metric), \(range), includes 0 (run \(runA) is better in \(share) of \(resamples))"
        }
        let aIsBetter = (comparison.low > 0) == policy.higherIsBetter
        let (better, worse) = aIsBetter ? (runA, runB) : (runB, runA)
        return "run \(better) is better than run \(worse) on the public rows: \(policy.metric) difference \(difference) (run \(runA) − run \(runB); 95% interval \(range), excluding 0), run \(runA) better in \(share) of \(resamples)"
    }
}
