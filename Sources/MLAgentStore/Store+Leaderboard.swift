import GRDB
public import MLAgentProtocol

/// The leaderboard: directions ranked by their best public score, with the submitted run's
/// private score, the gap and why a direction is (or is not) flagged `overfit`.
extension Store {
    /// Directions ranked by their best public score (directions without one last).
    public func leaderboard(policy: EvaluationPolicy) async throws -> Leaderboard {
        try await database.writer.read { db in
            let directions = try DirectionRecord.order(Column("started_at")).fetchAll(db)
            let runs = try RunRecord.order(Column("id")).fetchAll(db)
            let byDirection = Dictionary(grouping: runs, by: \.direction)
            let submissions = try Self.directionSubmissions(in: db)
            var entries: [LeaderboardEntry] = []
            for direction in directions {
                let own = byDirection[direction.name] ?? []
                var best: RunRecord?
                for run in own where run.status != RunStatus.failed.rawValue {
                    guard let score = run.public_score else { continue }
                    if let current = best?.public_score, !policy.better(score, than: current) { continue }
                    best = run
                }
                let submitted = direction.submitted_run.flatMap { id in own.first { $0.id == id } }
                var gap: Double?
                if let submitted, let publicScore = submitted.public_score, let privateScore = submitted.private_score {
                    gap = policy.gap(publicScore: publicScore, privateScore: privateScore)
                }
                // Judged at the submission; a flag recorded before reasons were kept says so.
                var reason = direction.overfit_reason
                if direction.overfit, reason == nil {
                    reason = "the gap exceeded the absolute overfit_gap of an earlier version (no noise margin was recorded)"
                }
                let evals = own.reduce(0) { $0 + $1.public_evals }
                var flags: [String] = []
                if direction.overfit { flags.append("overfit") }
                if direction.status == "completed", submitted == nil { flags.append("no_submission") }
                if evals >= policy.publicEvalBudget { flags.append("budget_exhausted") }
                if direction.status == "failed" || direction.status == "abandoned" { flags.append(direction.status) }
                // The saved model does not stand behind the private score, or could not be replayed.
                if let outcome = submissions[direction.name]?.outcome, [.mismatch, .unreproducible].contains(outcome) {
                    flags.append(outcome.rawValue)
                }
                entries.append(
                    LeaderboardEntry(
                        rank: 0, direction: direction.name, branch: direction.branch, status: direction.status,
                        jobID: direction.job_id, publicScore: best?.public_score,
                        publicInterval: best?.public_ci.flatMap(ScoreInterval.decode), bestRun: best?.id,
                        bestRunName: best?.name, submittedRun: submitted?.id, submittedPublicScore: submitted?.public_score,
                        privateScore: submitted?.private_score, gap: gap, runs: own.count,
                        failedRuns: own.filter { $0.status == RunStatus.failed.rawValue }.count, publicEvals: evals,
                        flags: flags, rationale: direction.rationale, startedAt: Timestamp.format(direction.started_at),
                        finishedAt: direction.finished_at.map(Timestamp.format), gapThreshold: direction.gap_threshold,
                        overfitReason: direction.overfit ? reason : nil, gapNote: submitted == nil ? nil : reason))
                entries[entries.count - 1].submission = submissions[direction.name]
            }
            entries.sort { a, b in
                switch (a.publicScore, b.publicScore) {
                case let (x?, y?): return x == y ? a.startedAt < b.startedAt : policy.better(x, than: y)
                case (.some, nil): return true
                case (nil, .some): return false
                case (nil, nil): return a.startedAt < b.startedAt
                }
            }
            for index in entries.indices { entries[index].rank = index + 1 }
            return Leaderboard(
                metric: policy.metric, higherIsBetter: policy.higherIsBetter, overfitGap: policy.overfitGap,
                publicEvalBudget: policy.publicEvalBudget, directions: entries, overfitRule: policy.overfitRule)
        }
    }
}
