import Foundation
@testable import MLAgentDaemon
import MLAgentEval
import MLAgentProtocol
import MLAgentStore
import Testing

/// What the daemon writes about scores: the overfit settings, the summary, the direction file,
/// and the start-time check of the targets.
@Suite("Evaluation reports")
struct EvaluationReportTests {
    static let start = Date(timeIntervalSince1970: 1_795_766_400)

    static func entry(_ name: String, gap: Double?, reason: String? = nil, note: String? = nil) -> LeaderboardEntry {
        LeaderboardEntry(
            rank: 1, direction: name, branch: "exp/\(name)", status: "completed", jobID: 1, publicScore: 8.16,
            publicInterval: ScoreInterval(low: 7.69, high: 8.63, confidence: 0.95, samples: 1000), bestRun: 1,
            bestRunName: "r1", submittedRun: 1, submittedPublicScore: 8.16, privateScore: 8.16 + (gap ?? 0), gap: gap,
            runs: 1, failedRuns: 0, publicEvals: 1, flags: reason == nil ? [] : ["overfit"], rationale: "why",
            startedAt: Timestamp.format(start), finishedAt: nil, gapThreshold: 0.66, overfitReason: reason, gapNote: note ?? reason)
    }

    @Test("overfit_gap: per-metric defaults, one number for every metric, or a table of gaps and shares")
    func overfitSettings() throws {
        let defaults = DaemonConfig()
        #expect(defaults.overfitGaps[.rmse] == .relative(0.02) && defaults.overfitGaps[.rocAUC] == .absolute(0.005))
        #expect(EvalMetricCoverage.allCovered(defaults.overfitGaps))
        let one = try ConfigLoader.parse("[evaluation]\nmetric = \"mae\"\noverfit_gap = 0.3", source: "t.toml")
        #expect(one.evaluationPolicy.overfitFloor == .absolute(0.3))
        let table = try ConfigLoader.parse(
            "[evaluation]\nmetric = \"rmse\"\noverfit_gap = { rmse = \"5%\", r2 = 0.02 }", source: "t.toml")
        #expect(table.evaluationPolicy.overfitFloor == .relative(0.05))
        #expect(table.overfitGaps[.r2] == .absolute(0.02) && table.overfitGaps[.mae] == .relative(0.02))
        for (text, expected) in [
            ("overfit_gap = { rsme = 0.1 }", "unknown metric evaluation.overfit_gap.rsme"),
            ("overfit_gap = { rmse = \"big\" }", "evaluation.overfit_gap.rmse must be a gap"),
            ("overfit_gap = -1", "out of range"),
            ("overfit_gap = true", "must be a number or a table by metric"),
        ] {
            #expect(throws: ConfigError.self) { try ConfigLoader.parse("[evaluation]\n\(text)", source: "t.toml") }
            do {
                _ = try ConfigLoader.parse("[evaluation]\n\(text)", source: "t.toml")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }

    @Test("the summary keeps guidance, rationale and each learnings heading apart, and says what the gap is")
    func summaryWording() {
        let learnings = "### What worked\n- depth 8 (run 3)\n\n### What failed\n- lr 0.3 diverged\n\n### What to try next\n- stacking\n"
        let directions = [
            Direction(name: "hgb", jobID: 1, branch: "exp/hgb", status: "completed", rationale: "trees after the linear run",
                      guidance: "depth 6-10", learnings: learnings, startedAt: Self.start, finishedAt: nil),
            Direction(name: "plain", jobID: 2, branch: "exp/plain", status: "completed", rationale: "", guidance: "",
                      learnings: "Nothing beat the baseline.", startedAt: Self.start, finishedAt: nil),
        ]
        let reason = "private 12.0000 is above public 8.1600 by 3.8400, more than the 95% noise margin"
        let board = Leaderboard(
            metric: "rmse", higherIsBetter: false, overfitGap: 0.02, publicEvalBudget: 10,
            directions: [Self.entry("hgb", gap: 3.84, reason: reason), Self.entry("plain", gap: 0.02, note: "chance")],
            overfitRule: "flagged overfit when the gap (private − public) exceeds both …")
        let text = SummaryReport.build(board: board, runs: [], directions: directions).text
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("- hgb (completed, 1 run)"), "\(text)")
        #expect(lines.contains("  Guidance: depth 6-10"))
        #expect(lines.contains("  Rationale: trees after the linear run"))
        #expect(lines.contains("  What worked: depth 8 (run 3)"))
        #expect(lines.contains("  What failed: lr 0.3 diverged"))
        #expect(lines.contains("  What to try next: stacking"))
        #expect(lines.contains("  Learnings: Nothing beat the baseline."))
        #expect(lines.contains("     overfit: \(reason)"), "\(text)")
        #expect(text.contains("Public/private gap (private − public; positive means the private score is worse)"), "\(text)")
        #expect(!text.contains("public minus private"))
    }

    @Test("the direction file says what the gap is and why the direction is or is not flagged")
    func directionFile() {
        let reason = "private 12.0000 is above public 8.1600 by 3.8400, more than the 95% noise margin"
        let direction = Direction(name: "hgb", jobID: 1, branch: "exp/hgb", status: "completed", rationale: "r",
                                  guidance: "", learnings: nil, startedAt: Self.start, finishedAt: Self.start, overfit: true)
        let flagged = DirectionFile.resultLines(
            .init(entry: Self.entry("hgb", gap: 3.84, reason: reason), runs: [], metric: "rmse", higherIsBetter: false,
                  overfitGap: 0.02))
        #expect(flagged.contains { $0.contains("gap +3.8400 (private − public: positive means the private score is worse)") })
        #expect(flagged.contains("- Flag: overfit. Private 12.0000 is above public 8.1600 by 3.8400, more than the 95% noise margin."))
        let steady = DirectionFile.resultLines(
            .init(entry: Self.entry("hgb", gap: 0.02, note: "private 8.1800 is above public 8.1600 by 0.0200, within the noise"),
                  runs: [], metric: "rmse", higherIsBetter: false, overfitGap: 0.02))
        #expect(steady.contains("- Overfit check (not flagged): private 8.1800 is above public 8.1600 by 0.0200, within the noise."))
        #expect(DirectionFile.render(direction, job: nil).contains("Status: completed (flagged: overfit)"))
    }

    @Test("targets that do not fit the metric stop the daemon with the file and the problem")
    func targetCheck() throws {
        let data = Data("target\n-1\n1\n1\n-1\n1\n".utf8)
        do {
            _ = try TargetCheck.parse(data, file: "/data/val_public_y.csv", metric: .rocAUC)
            Issue.record("−1/+1 targets were accepted for roc_auc")
        } catch {
            #expect(error.description.hasPrefix("the targets /data/val_public_y.csv do not fit [evaluation] metric = \"roc_auc\""))
            #expect(error.description.contains("2 of 5 are not"), "\(error.description)")
        }
        #expect(try TargetCheck.parse(Data("y\n0\n0\n".utf8), file: "f", metric: .f1) == [0, 0])
        #expect(throws: ConfigError.self) { try TargetCheck.parse(Data("y\n1\n2\n".utf8), file: "f", metric: .logLoss) }
        #expect(throws: ConfigError.self) { try TargetCheck.parse(Data("".utf8), file: "f", metric: .rmse) }
    }
}

/// Every metric has a documented default overfit_gap.
enum EvalMetricCoverage {
    static func allCovered(_ gaps: [MLAgentEval.EvalMetric: GapFloor]) -> Bool {
        MLAgentEval.EvalMetric.allCases.allSatisfy { gaps[$0] != nil && GapFloor.defaults[$0.rawValue] != nil }
    }
}
