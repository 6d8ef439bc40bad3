import Foundation
import MLAgentProtocol

/// `report.leaderboard`: directions ranked by public score, with intervals, private scores,
/// gaps, flags and each best run against the leader's (`vs_leader`).
struct LeaderboardHandler: RequestHandler {
    static let method = Method.leaderboard
    static let access = MethodAccess.both
    let core: DaemonCore
    let comparer: RunComparer?

    func handle(_ params: NoParams, context: RequestContext) async throws -> Leaderboard {
        let board = try await core.store.leaderboard(policy: core.config.evaluationPolicy)
        return await comparer?.annotate(board) ?? board
    }
}

/// `report.summary`: the final report of a session: ranked directions, the overall best,
/// the public/private gap and what was tried.
struct SummaryHandler: RequestHandler {
    static let method = Method.summary
    static let access = MethodAccess.both
    let core: DaemonCore
    let comparer: RunComparer?

    func handle(_ params: NoParams, context: RequestContext) async throws -> SessionSummary {
        var board = try await core.store.leaderboard(policy: core.config.evaluationPolicy)
        if let comparer { board = await comparer.annotate(board) }
        let runs = try await core.store.runs()
        let directions = try await core.store.directions()
        var summary = SummaryReport.build(board: board, runs: runs, directions: directions)
        let modules = try await core.store.sharedModules(higherIsBetter: board.higherIsBetter)
        if !modules.isEmpty {
            summary.sharedModules = modules
            summary.text += "\n" + SummaryReport.sharedLines(modules).joined(separator: "\n")
        }
        return summary
    }
}

/// Builds the session summary and its text.
enum SummaryReport {
    static func build(board: Leaderboard, runs: [Run], directions: [Direction]) -> SessionSummary {
        let failed = runs.filter { $0.status == .failed }.count
        var best: SessionSummary.Best?
        if let top = board.directions.first, let runID = top.bestRun, let score = top.publicScore,
            let run = runs.first(where: { $0.id == runID })
        {
            let gap = run.privateScore.map { board.higherIsBetter ? score - $0 : $0 - score }
            best = SessionSummary.Best(
                direction: top.direction, branch: top.branch, run: runID, runName: run.name, publicScore: score,
                privateScore: run.privateScore, gap: gap)
        }
        let gaps = board.directions.compactMap(\.gap)
        let meanGap = gaps.isEmpty ? nil : gaps.reduce(0, +) / Double(gaps.count)
        let overfit = board.directions.filter { $0.flags.contains("overfit") }.map(\.direction)

        var lines: [String] = []
        let sense = board.higherIsBetter ? "higher is better" : "lower is better"
        lines.append("Research summary: \(board.metric) (\(sense))")
        let submitted = board.directions.filter { $0.submittedRun != nil }.count
        lines.append(
            "\(runs.count) runs across \(board.directions.count) directions (\(failed) failed runs); \(submitted) directions submitted to the private split.")
        lines.append("")
        if board.directions.isEmpty {
            lines.append("No directions yet.")
        } else {
            lines.append("Ranked directions:")
            for entry in board.directions {
                var line = "  \(entry.rank). \(entry.direction) [\(entry.status)]: public \(format(entry.publicScore))"
                if let interval = entry.publicInterval { line += " (95% CI \(format(interval.low))–\(format(interval.high)))" }
                line += ", private \(format(entry.privateScore)), gap \(signed(entry.gap)), \(entry.runs) runs"
                if entry.failedRuns > 0 { line += " (\(entry.failedRuns) failed)" }
                if let run = entry.bestRun { line += ", best run \(run)" }
                if let versus = versusBest(entry) { line += ", \(versus)" }
                if !entry.flags.isEmpty { line += "  [\(entry.flags.joined(separator: ", "))]" }
                lines.append(line)
                if let reason = entry.overfitReason { lines.append("     overfit: \(reason)") }
            }
        }
        lines.append("")
        if let best {
            var line =
                "Overall best: \(best.direction) (branch \(best.branch)), run \(best.run) \"\(best.runName)\": public \(format(best.publicScore))"
            if let privateScore = best.privateScore {
                line += ", private \(format(privateScore)), gap \(signed(best.gap))"
            } else {
                line += " (this run was not submitted)"
            }
            lines.append(line + ".")
        } else {
            lines.append("Overall best: none yet (no run has a public score).")
        }
        if let significance = significanceLine(board) { lines.append(significance) }
        let definition = "\(board.gapDefinition); positive means the private score is worse"
        if let meanGap {
            lines.append(
                "Public/private gap (\(definition)): mean \(signed(meanGap)) over \(gaps.count) submitted directions; overfit: \(overfit.isEmpty ? "none" : overfit.joined(separator: ", ")).")
        } else {
            lines.append("Public/private gap (\(definition)): no submissions yet.")
        }
        if let rule = board.overfitRule { lines.append("A direction is \(rule).") }
        lines.append("")
        lines.append("What was tried:")
        let entries = Dictionary(uniqueKeysWithValues: board.directions.map { ($0.direction, $0) })
        for direction in directions {
            let count = entries[direction.name]?.runs ?? 0
            lines.append("- \(direction.name) (\(direction.status), \(count) run\(count == 1 ? "" : "s"))")
            let guidance = firstLine(direction.guidance)
            let rationale = firstLine(direction.rationale)
            if !guidance.isEmpty { lines.append("  Guidance: \(guidance)") }
            if !rationale.isEmpty, rationale != guidance { lines.append("  Rationale: \(rationale)") }
            if guidance.isEmpty, rationale.isEmpty { lines.append("  Queued by the operator without guidance.") }
            for (heading, point) in learningPoints(direction.learnings ?? "") {
                lines.append("  \(heading): \(point)")
            }
        }
        if directions.isEmpty { lines.append("- nothing yet") }
        var summary = SessionSummary(
            leaderboard: board, best: best, totalRuns: runs.count, failedRuns: failed, meanGap: meanGap,
            overfitDirections: overfit, text: lines.joined(separator: "\n"))
        summary.indistinguishableFromBest = indistinguishable(board)
        return summary
    }

    /// Each shared module and how the runs that imported it scored, by direction.
    static func sharedLines(_ modules: [SharedModule]) -> [String] {
        var lines = ["", "Shared code on main:"]
        for module in modules {
            lines.append("- \(module.name) v\(module.version) (from \(module.direction)): \(firstLine(module.summary))")
            if module.adoptions.isEmpty { lines.append("  Not used by any run yet.") }
            for adoption in module.adoptions {
                lines.append(
                    "  Used by \(adoption.direction): run\(adoption.runs.count == 1 ? "" : "s") \(adoption.runs.map(String.init).joined(separator: ", ")), best public \(format(adoption.best))")
            }
        }
        return lines
    }

    static func format(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.4f", value)
    }

    static func signed(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%+.4f", value)
    }

    /// The learnings as (heading, first point) pairs, one per Markdown heading that has text under
    /// it ("What worked", "What failed", …), in order and at most five; text before the first
    /// heading, or learnings without headings, come under "Learnings".
    static func learningPoints(_ text: String) -> [(String, String)] {
        var sections: [(heading: String, body: [Substring])] = [("Learnings", [])]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#") {
                let heading = trimmed.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
                sections.append((heading.isEmpty ? "Learnings" : heading, []))
            } else {
                sections[sections.count - 1].body.append(line)
            }
        }
        return sections.compactMap { section -> (String, String)? in
            let point = firstLine(section.body.joined(separator: "\n"))
            return point.isEmpty ? nil : (section.heading, point)
        }.prefix(5).map { $0 }
    }

    /// The first non-heading line of a Markdown text, shortened.
    static func firstLine(_ text: String) -> String {
        let line = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty && !$0.hasPrefix("#") } ?? ""
        let trimmed = line.hasPrefix("- ") ? String(line.dropFirst(2)) : line
        return trimmed.count > 160 ? String(trimmed.prefix(157)) + "..." : trimmed
    }
}
