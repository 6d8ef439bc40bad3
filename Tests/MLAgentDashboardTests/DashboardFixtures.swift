import Foundation
import MLAgentDashboard
import MLAgentProtocol

/// A realistic research session: 6 directions, 30 runs with curves, one overfit direction, one
/// failed direction, one job still running, one cancelled before declaring a direction.
enum DashboardFixtures {
    static let start = Date(timeIntervalSince1970: 1_795_766_400)  // 2026-11-27T08:00:00Z

    /// A deterministic generator, so the page is the same on every run.
    struct Random {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    struct Plan {
        var name: String, status: String, agent: String, rationale: String
        var jobStart: Double, jobEnd: Double?, jobState: JobState
        var scores: [Double?]  // nil: the run failed before scoring
        var failed: Set<Int> = []
        var privateScore: Double?
        var flags: [String] = []
    }

    static func time(_ minutes: Double) -> String { Timestamp.format(start.addingTimeInterval(minutes * 60)) }

    static func session(directionName rename: [String: String] = [:], rationale: String? = nil) -> DashboardData {
        var plans = [
            Plan(name: "catboost-tuning", status: "completed", agent: "claude", rationale: "Gradient boosting on raw features; tune depth and learning rate.",
                 jobStart: 0, jobEnd: 96, jobState: .completed,
                 scores: [0.7712, 0.7748, 0.7731, 0.7790, 0.7802, 0.7826, 0.7815], privateScore: 0.7741),
            Plan(name: "lightgbm-dart", status: "completed", agent: "codex", rationale: "DART boosting to reduce over-specialisation of late trees.",
                 jobStart: 1.5, jobEnd: 88, jobState: .completed,
                 scores: [0.7655, 0.7702, 0.7744, 0.7768, 0.7791, 0.7760], privateScore: 0.7703),
            Plan(name: "target-encoding-interactions", status: "completed", agent: "cursor",
                 rationale: "Pairwise interactions of the top features with out-of-fold target encoding.",
                 jobStart: 3, jobEnd: 102, jobState: .completed,
                 scores: [0.7698, 0.7751, 0.7789, 0.7812, 0.7803], privateScore: 0.7651, flags: ["overfit"]),
            Plan(name: "mlp-embeddings", status: "failed", agent: "claude", rationale: "A small MLP with batch norm; embeddings of quantile-binned features.",
                 jobStart: 97, jobEnd: 131, jobState: .failed, scores: [0.7402, nil, 0.7455, nil], failed: [1, 3], flags: ["failed", "no_submission"]),
            Plan(name: "logistic-baseline", status: "completed", agent: "codex", rationale: "Regularised logistic regression as a calibrated baseline.",
                 jobStart: 89, jobEnd: 120, jobState: .completed, scores: [0.7351, 0.7388, 0.7402, 0.7399], privateScore: 0.7390),
            Plan(name: "stacking-ensemble", status: "in_progress", agent: "cursor", rationale: "Stack the best boosted models with a logistic meta-learner.",
                 jobStart: 104, jobEnd: nil, jobState: .running, scores: [0.7801, 0.7833, 0.7829, nil], flags: ["no_submission"]),
        ]
        for index in plans.indices {
            if let name = rename[plans[index].name] { plans[index].name = name }
            if let rationale { plans[index].rationale = rationale }
        }
        var random = Random(state: 42)
        var runs: [Run] = []
        var curves: [Int64: [MetricPoint]] = [:]
        var entries: [LeaderboardEntry] = []
        var jobs: [Job] = []
        var directions: [Direction] = []
        var nextRun: Int64 = 1
        for (jobIndex, plan) in plans.enumerated() {
            let jobID = Int64(jobIndex + 2)
            let span = (plan.jobEnd ?? 150) - plan.jobStart
            let slot = span / Double(plan.scores.count)
            var directionRuns: [Run] = []
            for (index, score) in plan.scores.enumerated() {
                let begin = plan.jobStart + Double(index) * slot + 1
                let running = plan.jobEnd == nil && index == plan.scores.count - 1
                let failed = plan.failed.contains(index)
                let width = 0.004 + random.next() * 0.004
                let run = Run(
                    id: nextRun, direction: plan.name, jobID: jobID, name: "\(plan.name.split(separator: "-")[0])-v\(index + 1)",
                    status: running ? .running : failed ? .failed : .finished, rationale: "Try configuration \(index + 1).",
                    analysis: failed ? "diverged" : "ok", startedAt: time(begin), endedAt: running ? nil : time(begin + slot * 0.85),
                    publicScore: score, publicInterval: score.map { ScoreInterval(low: $0 - width, high: $0 + width, confidence: 0.95, samples: 1000) },
                    publicEvals: score == nil ? 0 : 1, privateScore: nil, metricPoints: 0, hasModel: !failed)
                directionRuns.append(run)
                nextRun += 1
                if run.id % 9 == 4 { continue }  // some runs log no curves
                var points: [MetricPoint] = []
                let steps = failed ? 30 : 150
                let target = score ?? 0.6
                for step in stride(from: 0, through: steps, by: 2) {
                    let t = Double(step) / 150
                    let noise = (random.next() - 0.5) * 0.01
                    let trainLoss = failed ? 0.69 + t * 2 + noise : 0.69 * exp(-2.2 * t) + 0.28 + noise
                    points.append(MetricPoint(key: "train_loss", value: trainLoss, step: Int64(step)))
                    points.append(MetricPoint(key: "val_loss", value: failed ? trainLoss + 0.1 : 0.69 * exp(-1.8 * t) + 0.36 + noise * 1.5 + t * t * 0.03, step: Int64(step)))
                    points.append(MetricPoint(key: "val_auc", value: 0.5 + (target - 0.5) * (1 - exp(-5 * t)) + noise * 0.5, step: Int64(step)))
                }
                if plan.name.hasPrefix("mlp") { points.append(MetricPoint(key: "learning_rate", value: 0.01, step: 0)) }
                curves[run.id] = points
            }
            runs += directionRuns
            let scored = directionRuns.filter { $0.status != .failed && $0.publicScore != nil }
            let best = scored.max { ($0.publicScore ?? 0) < ($1.publicScore ?? 0) }
            if let privateScore = plan.privateScore, let best, let index = runs.firstIndex(where: { $0.id == best.id }) {
                runs[index].privateScore = privateScore
            }
            let gap = plan.privateScore.flatMap { p in best?.publicScore.map { $0 - p } }
            entries.append(LeaderboardEntry(
                rank: 0, direction: plan.name, branch: "exp/\(plan.name)", status: plan.status, jobID: jobID,
                publicScore: best?.publicScore, publicInterval: best?.publicInterval, bestRun: best?.id, bestRunName: best?.name,
                submittedRun: plan.privateScore == nil ? nil : best?.id, submittedPublicScore: plan.privateScore == nil ? nil : best?.publicScore,
                privateScore: plan.privateScore, gap: gap, runs: directionRuns.count, failedRuns: plan.failed.count,
                publicEvals: scored.count, flags: plan.flags, rationale: plan.rationale, startedAt: time(plan.jobStart),
                finishedAt: plan.jobEnd.map(time)))
            let startDate = start.addingTimeInterval(plan.jobStart * 60)
            let endDate = plan.jobEnd.map { start.addingTimeInterval($0 * 60) }
            jobs.append(Job(id: jobID, direction: plan.name, guidance: "", agent: plan.agent, priority: 0, state: plan.jobState,
                            attempts: 1, reason: plan.jobState == .failed ? "agent exited with status 1" : nil,
                            createdAt: start, updatedAt: endDate ?? startDate, startedAt: startDate, finishedAt: endDate))
            directions.append(Direction(name: plan.name, jobID: jobID, branch: "exp/\(plan.name)", status: plan.status,
                                        rationale: plan.rationale, guidance: "", learnings: nil, startedAt: startDate, finishedAt: endDate,
                                        submittedRun: entries.last?.submittedRun, overfit: plan.flags.contains("overfit")))
        }
        // A job cancelled before its agent declared a direction.
        jobs.insert(Job(id: 1, direction: "", guidance: "pick your own", agent: "codex", priority: 0, state: .cancelled, attempts: 1,
                        reason: "superseded", createdAt: start, updatedAt: start.addingTimeInterval(60),
                        startedAt: start.addingTimeInterval(-240), finishedAt: start.addingTimeInterval(60)), at: 0)
        entries.sort { ($0.publicScore ?? 0) > ($1.publicScore ?? 0) }
        for index in entries.indices { entries[index].rank = index + 1 }
        let leaderboard = Leaderboard(metric: "roc_auc", higherIsBetter: true, overfitGap: 0.01, publicEvalBudget: 20, directions: entries)
        return DashboardData(title: "mlagent research session", generatedAt: time(150), leaderboard: leaderboard, runs: runs,
                             curves: curves, jobs: jobs, directions: directions)
    }

    static func empty() -> DashboardData {
        DashboardData(generatedAt: time(0),
                      leaderboard: Leaderboard(metric: "roc_auc", higherIsBetter: true, overfitGap: 0.01, publicEvalBudget: 20, directions: []))
    }
}
