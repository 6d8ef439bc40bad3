import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Significance through the real daemon: the predictions of public evaluations are kept, two runs
/// are compared with a paired bootstrap on the same public rows (`mlagentctl compare`), the
/// leaderboard shows each direction against the leader, and the summary names the directions that
/// cannot be told from the best, also after `kill -9` and a restart.
@Suite("compare: paired bootstrap of runs on the public rows", .serialized)
struct CompareTests {
    /// A deterministic stream of numbers in [0, 1).
    struct Stream {
        var state: UInt64
        mutating func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
    }

    struct Recorded {
        var runs: [String: Int64] = [:]
        var unevaluated: Int64 = 0
        var agentCompare: CtlResult?
        var agentUnevaluated: CtlResult?
    }

    @Test("a clearly worse direction is distinguishable from the leader, a near twin is not; kept across kill -9")
    func leaderboardCompareAndSummary() throws {
        var stream = Stream(state: 2026)
        let rows = 2000
        let truth = (0..<rows).map { _ in stream.next() < 0.5 ? 0.0 : 1.0 }
        let strong = truth.map { min(max(0.3 * $0 + 0.7 * stream.next(), 0), 1) }
        let predictions: [(String, [Double])] = [
            ("strong", strong),
            ("twin", strong.map { min(max($0 + 0.02 * (stream.next() - 0.5), 0), 1) }),
            ("weak", truth.map { 0.08 * $0 + 0.92 * stream.next() }),
        ]
        let helper = EvaluationTests()
        let daemon = try helper.makeDaemon("cmp", metric: "roc_auc", public: truth, private: [0, 1, 0, 1])
        try daemon.start(launching: true)
        let client = try daemon.client()
        var recorded = Recorded()
        for (index, (name, values)) in predictions.enumerated() {
            let job = Int64(index + 1)
            _ = try client.enqueue(EnqueueParams(direction: name))
            let (ctl, worktree) = try helper.puppet(daemon, job: job)
            let run = try ctl(["run", "start", "--name", name, "--rationale", "compare"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            try EvaluationTests.csv(values).write(toFile: worktree + "/pub.csv", atomically: true, encoding: .utf8)
            let scored = try ctl(["eval", run, "pub.csv"])
            #expect(scored.status == 0, "\(scored.stderr)")
            #expect(try ctl(["run", "end", run, "--analysis", "ok"]).status == 0)
            recorded.runs[name] = Int64(run)
            if name == "weak" {
                // An agent compares any run (the knowledge base is shared), not a run without a
                // public evaluation.
                recorded.agentCompare = try ctl(["compare", run, String(recorded.runs["strong"]!), "--json"])
                let other = try ctl(["run", "start", "--name", "unscored", "--rationale", "none"]).stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                recorded.unevaluated = Int64(other) ?? 0
                recorded.agentUnevaluated = try ctl(["compare", other, run])
                #expect(try ctl(["run", "end", other, "--analysis", "not scored"]).status == 0)
            }
            try "### What worked\n- \(name)\n".write(toFile: worktree + "/l.md", atomically: true, encoding: .utf8)
            #expect(try ctl(["direction", "finish", "--learnings", "l.md"]).status == 0)
            _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release-\(job)"), contents: Data())
        }
        let strongRun = try #require(recorded.runs["strong"])
        let weakRun = try #require(recorded.runs["weak"])
        let twinRun = try #require(recorded.runs["twin"])

        let agentCompare = try #require(recorded.agentCompare)
        #expect(agentCompare.status == 0, "\(agentCompare.stderr)")
        let weakVsStrong = try JSONDecoder().decode(RunComparison.self, from: Data(agentCompare.stdout.utf8))
        #expect(weakVsStrong.runA == weakRun && weakVsStrong.runB == strongRun && weakVsStrong.rows == rows)
        #expect(weakVsStrong.distinguishable && weakVsStrong.difference < 0, "\(weakVsStrong)")
        #expect((weakVsStrong.interval?.high ?? 0) < 0 && weakVsStrong.interval?.samples == 500)
        #expect(weakVsStrong.probabilityABetter == 0)
        #expect(abs(weakVsStrong.difference - (weakVsStrong.scoreA - weakVsStrong.scoreB)) < 1e-15)
        let unevaluated = try #require(recorded.agentUnevaluated)
        #expect(unevaluated.status == 1 && (unevaluated.stdout + unevaluated.stderr).contains("run \(recorded.unevaluated) has no public evaluation"),
                "\(unevaluated.stdout) \(unevaluated.stderr)")

        // Wait for the three jobs to end, so that what follows reads settled state.
        try waitUntil("the jobs to end", timeout: .seconds(60)) {
            try client.list().allSatisfy { $0.state != .running && $0.state != .queued }
        }
        let board = try client.leaderboard()
        #expect(board.directions.count == 3)
        let top = board.directions[0]
        #expect(top.direction == "strong" || top.direction == "twin", "\(board.directions.map(\.direction))")
        #expect(top.vsLeader == nil)
        let other = try #require(board.directions.first { $0.direction == (top.direction == "strong" ? "twin" : "strong") })
        let weak = try #require(board.directions.first { $0.direction == "weak" })
        let twinVersus = try #require(other.vsLeader)
        #expect(!twinVersus.distinguishable && twinVersus.leaderRun == top.bestRun, "\(twinVersus)")
        let interval = try #require(twinVersus.interval)
        #expect(interval.low <= 0 && 0 <= interval.high)
        let weakVersus = try #require(weak.vsLeader)
        #expect(weakVersus.distinguishable && (weakVersus.interval?.high ?? 0) < 0, "\(weakVersus)")

        let table = try daemon.ctl("leaderboard")
        #expect(table.status == 0 && table.stdout.contains("VS LEADER"), "\(table.stdout)")
        let twinLine = try #require(table.stdout.split(separator: "\n").first { $0.contains(" \(other.direction) ") })
        #expect(twinLine.contains("≈ ") && twinLine.contains(String(format: "%+.4f", twinVersus.difference)), "\(twinLine)")
        let topLine = try #require(table.stdout.split(separator: "\n").first { $0.contains(" \(top.direction) ") })
        #expect(topLine.contains("leader"), "\(topLine)")
        #expect(table.stdout.contains("indistinguishable from \(top.direction): \(other.direction)."), "\(table.stdout)")

        let text = try daemon.ctl("compare", String(twinRun), String(strongRun))
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("P(A better): "), "\(text.stdout)")
        #expect(text.stdout.contains("runs \(twinRun) and \(strongRun) are indistinguishable on the public rows"), "\(text.stdout)")
        let verdict = try daemon.ctl("compare", String(strongRun), String(weakRun))
        #expect(verdict.stdout.contains("P(A better): 1.000"), "\(verdict.stdout)")
        #expect(verdict.stdout.contains("run \(strongRun) is better than run \(weakRun) on the public rows"), "\(verdict.stdout)")
        let missing = try daemon.ctl("compare", "999", String(weakRun))
        #expect(missing.status == 1 && (missing.stdout + missing.stderr).contains("no run with id 999"), "\(missing.stderr)")

        let summary = try client.summary()
        #expect(summary.indistinguishableFromBest == [other.direction], "\(summary.text)")
        #expect(summary.text.contains("Indistinguishable from the best, \(top.direction) ("), "\(summary.text)")
        #expect(summary.text.contains(": \(other.direction) ("), "\(summary.text)")
        #expect(!summary.text.contains("weak (" + String(format: "%+.4f", weakVersus.difference)), "\(summary.text)")

        // The predictions are in SQLite with their evaluations: after kill -9 the same
        // comparisons come back (the cache is gone; the seed depends on the pair only).
        let before = try client.compare(runA: weakRun, runB: strongRun)
        #expect(before == weakVsStrong)
        daemon.kill9()
        try daemon.start(launching: true)
        let after = try daemon.client().compare(runA: weakRun, runB: strongRun)
        #expect(after == before)
        #expect(try daemon.client().compare(runA: strongRun, runB: weakRun).difference == -before.difference)
        #expect(try daemon.client().leaderboard().directions.map(\.vsLeader) == board.directions.map(\.vsLeader))
        #expect(try daemon.terminate() == 0)
    }
}
