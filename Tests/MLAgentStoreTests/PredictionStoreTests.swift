import Foundation
import GRDB
import MLAgentProtocol
@testable import MLAgentStore
import Testing

/// The predictions of public evaluations, kept as values with their evaluation.
@Suite("Predictions")
struct PredictionStoreTests {
    static let policy = EvaluationPolicy(metric: "roc_auc", higherIsBetter: true, publicEvalBudget: 10, overfitGap: 0.02)

    @Test("kept bit for bit with each public evaluation; the latest is the run's; none for private or failed writes")
    func roundTrip() async throws {
        let (store, job) = try await RunStoreTests().running()
        let run = try await store.startRun(jobID: job, name: "r", rationale: "why", params: [:])
        let awkward = [0.1, 1 / 3, 0, 1, .leastNonzeroMagnitude, 0.7 + 1e-16, 1 - .ulpOfOne]
        _ = try await store.recordEvaluation(
            jobID: job, run: run.id, split: .publicSplit, score: 0.5, interval: nil, rows: awkward.count,
            predictions: awkward, policy: Self.policy)
        let first = try await store.publicPredictions(run: run.id)
        #expect(first.values.map(\.bitPattern) == awkward.map(\.bitPattern) && first.score == 0.5 && first.direction == "d")
        let second = awkward.reversed().map { $0 }
        _ = try await store.recordEvaluation(
            jobID: job, run: run.id, split: .publicSplit, score: 0.6, interval: nil, rows: second.count,
            predictions: second, policy: Self.policy)
        let latest = try await store.publicPredictions(run: run.id)
        #expect(latest.values == second && latest.score == 0.6 && latest.evaluationID > first.evaluationID)
        // A vector of the wrong length records nothing, not even the evaluation.
        await #expect(throws: RPCError.self) {
            _ = try await store.recordEvaluation(
                jobID: job, run: run.id, split: .publicSplit, score: 0.7, interval: nil, rows: 3, predictions: [0.5],
                policy: Self.policy)
        }
        #expect(try await store.publicPredictions(run: run.id) == latest)
        let stored = try store.database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT rows, format, length(data) AS bytes FROM evaluation_predictions ORDER BY evaluation_id")
        }
        #expect(stored.map { $0["bytes"] as Int } == [56, 56] && stored.allSatisfy { $0["format"] == "f64le" })
    }

    @Test("a run without a public evaluation, or whose evaluation predates kept predictions, says so")
    func missing() async throws {
        let (store, job) = try await RunStoreTests().running()
        let run = try await store.startRun(jobID: job, name: "r", rationale: "why", params: [:])
        await expectKind(.notFound) { _ = try await store.publicPredictions(run: 99) }
        await expectKind(.invalidState, containing: "has no public evaluation") {
            _ = try await store.publicPredictions(run: run.id)
        }
        _ = try await store.recordEvaluation(
            jobID: job, run: run.id, split: .publicSplit, score: 0.5, interval: nil, rows: 2, policy: Self.policy)
        await expectKind(.invalidState, containing: "before the daemon kept predictions") {
            _ = try await store.publicPredictions(run: run.id)
        }
    }

    @Test("the BLOB is little-endian binary64 and refuses a length that does not match its rows")
    func coding() {
        let data = PredictionCoding.encode([1.0, -2.5])
        #expect(Array(data) == [0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0x04, 0xC0])
        #expect(PredictionCoding.decode(data, rows: 2) == [1.0, -2.5])
        #expect(PredictionCoding.decode(data, rows: 3) == nil && PredictionCoding.decode(data.prefix(15), rows: 2) == nil)
    }

    private func expectKind(
        _ kind: RPCErrorKind, containing text: String = "", _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("no error")
        } catch let error as RPCError {
            #expect(error.kind == kind && (text.isEmpty || error.message.contains(text)), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
