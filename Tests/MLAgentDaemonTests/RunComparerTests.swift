import Foundation
@testable import MLAgentDaemon
import MLAgentEval
import MLAgentProtocol
@testable import MLAgentStore
import Testing

/// The daemon's paired comparisons: cached by the pair of evaluations, the same seed either way.
@Suite("Run comparisons")
struct RunComparerTests {
    static let truth: [Double] = (0..<400).map { Double(($0 * 7919) % 13 % 2) }

    static func predictions(run: Int64, evaluation: Int64, signal: Double) -> Store.PublicPredictions {
        let values = truth.enumerated().map { index, y in
            min(max(signal * y + (1 - signal) * Double((index * 37 + Int(run) * 11) % 101) / 100, 0), 1)
        }
        return Store.PublicPredictions(run: run, direction: "d\(run)", evaluationID: evaluation, score: 0, values: values)
    }

    func comparer() throws -> RunComparer {
        let evaluator = Evaluator(metric: .rocAUC, targetsDir: "/nonexistent", bootstrapSamples: 200)
        evaluator.preload([.public: Self.truth])
        return RunComparer(store: try Store(database: try AppDatabase.inMemory()), evaluator: evaluator, logger: .init(label: "t"))
    }

    @Test("one bootstrap per pair of evaluations and resample count, whichever way round it is asked")
    func cachedBothWays() async throws {
        let comparer = try comparer()
        let a = Self.predictions(run: 1, evaluation: 10, signal: 0.4)
        let b = Self.predictions(run: 2, evaluation: 11, signal: 0.1)
        let forward = try await comparer.compare(a, b)
        let again = try await comparer.compare(a, b)
        let backward = try await comparer.compare(b, a)
        #expect(comparer.cachedPairs == 1)
        #expect(forward == again && backward == forward.reversed)
        let direct = try PairedBootstrap.compare(
            metric: .rocAUC, truth: Self.truth, a: a.values, b: b.values, samples: 200, seed: RunComparer.seed(10, 11))
        #expect(forward == direct && forward.distinguishable && forward.difference > 0)
        // A run evaluated again is a new pair.
        let reevaluated = Self.predictions(run: 1, evaluation: 12, signal: 0.4)
        _ = try await comparer.compare(reevaluated, b)
        #expect(comparer.cachedPairs == 2)
        #expect(RunComparer.seed(3, 9) == RunComparer.seed(9, 3) && RunComparer.seed(3, 9) != RunComparer.seed(3, 10))
    }

    @Test("concurrent requests for one pair share one computation")
    func concurrentShareOne() async throws {
        let comparer = try comparer()
        let a = Self.predictions(run: 1, evaluation: 1, signal: 0.3)
        let b = Self.predictions(run: 2, evaluation: 2, signal: 0.29)
        let results = try await withThrowingTaskGroup(of: PairedComparison.self) { group in
            for index in 0..<8 { group.addTask { try await index.isMultiple(of: 2) ? comparer.compare(a, b) : comparer.compare(b, a) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(comparer.cachedPairs == 1 && Set(results.map(\.difference)).count == 2)
    }

    @Test("verdicts name the better run, or say the two cannot be told apart")
    func verdicts() {
        let policy = EvaluationPolicy(metric: "log_loss", higherIsBetter: false, publicEvalBudget: 10, overfitGap: 0.02)
        let better = PairedComparison(difference: -0.05, low: -0.08, high: -0.02, samples: 100, confidence: 0.95, aBetter: 100, bBetter: 0)
        #expect(RunComparer.verdict(runA: 4, runB: 7, comparison: better, policy: policy).hasPrefix("run 4 is better than run 7"))
        #expect(RunComparer.verdict(runA: 7, runB: 4, comparison: better.reversed, policy: policy).hasPrefix("run 4 is better than run 7"))
        let same = PairedComparison(difference: 0.001, low: -0.01, high: 0.012, samples: 100, confidence: 0.95, aBetter: 40, bBetter: 60)
        #expect(RunComparer.verdict(runA: 4, runB: 7, comparison: same, policy: policy).contains("indistinguishable"))
        let none = PairedComparison(difference: 0.001, low: .nan, high: .nan, samples: 0, confidence: 0.95, aBetter: 0, bBetter: 0)
        #expect(RunComparer.verdict(runA: 4, runB: 7, comparison: none, policy: policy).contains("bootstrap_samples is 0"))
    }
}
