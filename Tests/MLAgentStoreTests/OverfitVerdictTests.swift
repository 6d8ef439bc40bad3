import MLAgentProtocol
import MLAgentStore
import Testing

/// The overfit alarm follows the metric's scale: a gap is judged against the noise of the two
/// bootstrap intervals and the metric's own floor, never against one absolute number.
@Suite("Overfit verdicts")
struct OverfitVerdictTests {
    static let rmse = EvaluationPolicy(
        metric: "rmse", higherIsBetter: false, publicEvalBudget: 10, overfitFloor: GapFloor.defaults["rmse"]!)
    static func interval(_ low: Double, _ high: Double) -> ScoreInterval {
        ScoreInterval(low: low, high: high, confidence: 0.95, samples: 1000)
    }

    @Test("an RMSE around 8: a private score inside the public interval is noise, one far outside is flagged")
    func rmseScale() {
        let within = Self.rmse.judge(
            publicScore: 8.16, publicInterval: Self.interval(7.69, 8.63), privateScore: 8.18,
            privateInterval: Self.interval(7.70, 8.66))
        #expect(!within.flagged)
        #expect(abs(within.gap - 0.02) < 1e-12 && within.threshold > 0.6)
        #expect(within.reason.contains("within the 95% noise margin"), "\(within.reason)")
        // The absolute 0.02 of earlier versions would have flagged an RMSE gap of 0.03.
        let tiny = Self.rmse.judge(
            publicScore: 8.16, publicInterval: Self.interval(7.69, 8.63), privateScore: 8.19, privateInterval: nil)
        #expect(!tiny.flagged)

        let far = Self.rmse.judge(
            publicScore: 8.16, publicInterval: Self.interval(7.69, 8.63), privateScore: 12,
            privateInterval: Self.interval(11.2, 12.9))
        #expect(far.flagged)
        #expect(far.reason.hasPrefix("private 12.0000 is above public 8.1600 by 3.8400, more than the 95% noise margin"), "\(far.reason)")
        #expect(far.reason.contains("overfit_gap 2% of the public score: 0.1632"), "\(far.reason)")
    }

    @Test("ROC AUC: higher is better, so the gap is public − private; the floor is absolute")
    func rocAUC() {
        let policy = EvaluationPolicy(
            metric: "roc_auc", higherIsBetter: true, publicEvalBudget: 10, overfitFloor: GapFloor.defaults["roc_auc"]!)
        let noise = policy.judge(
            publicScore: 0.814, publicInterval: Self.interval(0.802, 0.826), privateScore: 0.812, privateInterval: nil)
        #expect(!noise.flagged && abs(noise.gap - 0.002) < 1e-12)
        let better = policy.judge(
            publicScore: 0.80, publicInterval: Self.interval(0.79, 0.81), privateScore: 0.85, privateInterval: nil)
        #expect(!better.flagged && better.reason.contains("no worse"))
        let drop = policy.judge(
            publicScore: 0.80, publicInterval: Self.interval(0.79, 0.81), privateScore: 0.70, privateInterval: nil)
        #expect(drop.flagged && drop.reason.contains("below public"), "\(drop.reason)")
        // Without intervals only the floor judges, and the reason says so.
        let bare = policy.judge(publicScore: 0.80, publicInterval: nil, privateScore: 0.79, privateInterval: nil)
        #expect(bare.flagged && bare.margin == nil && bare.reason.contains("no bootstrap interval"), "\(bare.reason)")
        // A huge validation split: a gap beyond the tiny noise margin but under the floor is not flagged.
        let huge = policy.judge(
            publicScore: 0.80, publicInterval: Self.interval(0.7995, 0.8005), privateScore: 0.797, privateInterval: nil)
        #expect(!huge.flagged && huge.threshold == 0.005)
        #expect(policy.overfitRule.contains("public − private") && Self.rmse.overfitRule.contains("private − public"))
    }

    @Test("the verdict is kept with the direction and shown on the leaderboard with its reason")
    func persisted() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        for name in ["steady", "overfits"] {
            _ = try await store.enqueue(.init(direction: name, guidance: "", agent: "command", priority: 0))
            let ticket = try #require(
                try await store.claimNextJob(maxRunning: 2, worktree: { _ in "/w" }, logPath: { _ in "/l" }))
            let job = ticket.job.id
            let run = try await store.startRun(jobID: job, name: "r", rationale: "why", params: [:])
            _ = try await store.recordArtifact(jobID: job, run: run.id, name: "model", isDirectory: true, files: 1, bytes: 1)
            _ = try await store.recordEvaluation(
                jobID: job, run: run.id, split: .publicSplit, score: 8.16, interval: Self.interval(7.69, 8.63), rows: 200,
                policy: Self.rmse)
            _ = try await store.endRun(jobID: job, run: run.id, analysis: "ok", failed: false)
            let result = try await store.recordEvaluation(
                jobID: job, run: run.id, split: .privateSplit, score: name == "steady" ? 8.18 : 12,
                interval: Self.interval(7.7, 8.7), rows: 200, policy: Self.rmse)
            #expect(result.overfit == (name == "overfits") && result.overfitReason != nil && result.gapThreshold != nil)
            let detail = try await store.runDetail(id: run.id, policy: Self.rmse)
            #expect(detail.evaluations.last?.overfitReason == result.overfitReason)
        }
        let board = try await store.leaderboard(policy: Self.rmse)
        let steady = try #require(board.directions.first { $0.direction == "steady" })
        let overfits = try #require(board.directions.first { $0.direction == "overfits" })
        #expect(!steady.flags.contains("overfit") && steady.overfitReason == nil)
        #expect(steady.gapNote?.contains("chance explains it") == true, "\(steady.gapNote ?? "")")
        #expect(overfits.flags.contains("overfit"))
        #expect(overfits.overfitReason?.contains("more than the 95% noise margin") == true, "\(overfits.overfitReason ?? "")")
        #expect(board.overfitRule?.contains("private − public") == true)
        let events = try await store.events(since: 0, limit: 100)
        #expect(events.contains { $0.kind == EventKind.overfit && $0.message.contains("overfits overfits the public split: private 12.0000") })
    }
}

@Suite("Recorded scores")
struct RecordedScoreTests {
    @Test("a non-finite score or interval is refused as invalid_predictions before SQLite sees it")
    func nonFiniteRefused() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        _ = try await store.enqueue(.init(direction: "d", guidance: "", agent: "command", priority: 0))
        let ticket = try #require(try await store.claimNextJob(maxRunning: 1, worktree: { _ in "/w" }, logPath: { _ in "/l" }))
        let run = try await store.startRun(jobID: ticket.job.id, name: "r", rationale: "why", params: [:])
        let policy = OverfitVerdictTests.rmse
        for (score, interval) in [(Double.infinity, nil), (.nan, nil), (1.0, OverfitVerdictTests.interval(0, .infinity))] {
            do {
                _ = try await store.recordEvaluation(
                    jobID: ticket.job.id, run: run.id, split: .publicSplit, score: score, interval: interval, rows: 3, policy: policy)
                Issue.record("\(score) was recorded")
            } catch let error as RPCError {
                #expect(error.kind == .invalidPredictions && !error.message.contains("SQL"), "\(error)")
            }
        }
        #expect(try await store.run(id: run.id).publicEvals == 0)
    }
}
