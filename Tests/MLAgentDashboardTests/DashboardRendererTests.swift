import Foundation
import MLAgentDashboard
import MLAgentProtocol
import Testing

@Suite("Dashboard rendering")
struct DashboardRendererTests {
    static let chartIDs = ["chart-leaderboard", "chart-progression", "chart-public-private", "chart-distribution",
                           "chart-curves", "chart-timeline"]

    /// Every `src=`/`href=` value, and whether anything points outside the page.
    static func externalReferences(_ html: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"(?i)\b(src|href|action|xlink:href)\s*=\s*["']?([^"'\s>]*)"#)
        let matches = pattern.matches(in: html, range: NSRange(html.startIndex..., in: html))
        return matches.compactMap { Range($0.range(at: 2), in: html).map { String(html[$0]) } }.filter { !$0.hasPrefix("#") }
    }

    static func nonFiniteTokens(_ html: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"NaN|Infinity|\b-?inf\b"#, options: [.caseInsensitive])
        return pattern.matches(in: html, range: NSRange(html.startIndex..., in: html))
            .compactMap { Range($0.range, in: html).map { String(html[$0]) } }
    }

    static func embeddedJSON(_ html: String) throws -> [String: Any] {
        let open = #"<script type="application/json" id="dashboard-data">"#
        let start = try #require(html.range(of: open))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        let text = String(html[start.upperBound..<end.lowerBound])
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any])
    }

    @Test("the realistic page is one self-contained HTML document")
    func selfContained() throws {
        let html = DashboardRenderer.render(DashboardFixtures.session())
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.components(separatedBy: "<html").count == 2)
        #expect(html.components(separatedBy: "</html>").count == 2)
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(Self.externalReferences(html).isEmpty, "external references: \(Self.externalReferences(html))")
        #expect(!html.contains("<link") && !html.contains("@import") && !html.contains("url(http"))
        for id in Self.chartIDs { #expect(html.contains("id=\"\(id)\""), "missing \(id)") }
        #expect(html.contains("<pre id=\"render-report\">"))
        #expect(html.contains("30 runs across 6 directions — best public score: <b>0.7833</b>"))
        #expect(html.contains("⚠ overfit"))
        #expect(Self.nonFiniteTokens(html).isEmpty)
    }

    @Test("the embedded curve data parses and holds every run")
    func embeddedJSONParses() throws {
        let data = DashboardFixtures.session()
        let json = try Self.embeddedJSON(DashboardRenderer.render(data))
        let runs = try #require(json["runs"] as? [[String: Any]])
        #expect(runs.count == data.runs.count)
        let first = try #require(runs.first)
        let curves = try #require(first["curves"] as? [String: [[Double]]])
        #expect(curves["val_auc"]?.count == 76)
        #expect(json["higherIsBetter"] as? Bool == true)
    }

    @Test("markup in direction names and rationales is escaped everywhere")
    func injectionEscaped() throws {
        let evil = "<script>alert(1)</script>"
        let data = DashboardFixtures.session(directionName: ["catboost-tuning": evil], rationale: "\"><img src=x onerror=alert(2)>")
        let html = DashboardRenderer.render(data)
        #expect(!html.contains(evil))
        #expect(!html.contains("<img"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.components(separatedBy: "<script").count == 3, "only the data block and the page script")
        #expect(html.components(separatedBy: "</script>").count == 3)
        let json = try Self.embeddedJSON(html)
        let runs = try #require(json["runs"] as? [[String: Any]])
        #expect(runs.contains { $0["direction"] as? String == evil }, "the JSON keeps the name, escaped as \\u003c")
    }

    @Test("empty data renders every chart with a message and no bad numbers")
    func emptyData() throws {
        let html = DashboardRenderer.render(DashboardFixtures.empty())
        for id in Self.chartIDs { #expect(html.contains("id=\"\(id)\"")) }
        #expect(html.contains("0 runs across 0 directions — no public score yet"))
        #expect(html.contains("No directions yet."))
        #expect(Self.nonFiniteTokens(html).isEmpty)
        let json = try Self.embeddedJSON(html)
        #expect((json["runs"] as? [Any])?.isEmpty == true)
    }

    @Test("degenerate data: one run, equal scores, non-finite values, no curves, no submissions")
    func degenerateData() throws {
        let at = DashboardFixtures.time
        func run(_ id: Int64, _ direction: String, _ score: Double?, ended: Bool = true) -> Run {
            Run(id: id, direction: direction, jobID: 1, name: "r\(id)", status: ended ? .finished : .running, rationale: "",
                analysis: nil, startedAt: at(Double(id)), endedAt: ended ? at(Double(id)) : nil, publicScore: score,
                publicInterval: score.map { ScoreInterval(low: $0, high: $0, confidence: 0.95, samples: 10) },
                publicEvals: 1, privateScore: nil, metricPoints: 0, hasModel: false)
        }
        let entry = LeaderboardEntry(
            rank: 1, direction: "only", branch: "exp/only", status: "in_progress", jobID: 1, publicScore: 0.5,
            publicInterval: ScoreInterval(low: 0.5, high: 0.5, confidence: 0.95, samples: 10), bestRun: 1, bestRunName: "r1",
            submittedRun: 1, submittedPublicScore: 0.5, privateScore: 0.5, gap: 0, runs: 3, failedRuns: 0, publicEvals: 3,
            flags: [], rationale: "", startedAt: at(0), finishedAt: nil)
        let job = Job(id: 1, direction: "only", guidance: "", agent: "", priority: 0, state: .running, attempts: 1, reason: nil,
                      createdAt: DashboardFixtures.start, updatedAt: DashboardFixtures.start, startedAt: DashboardFixtures.start, finishedAt: nil)
        let queued = Job(id: 2, direction: "", guidance: "", agent: "claude", priority: 0, state: .queued, attempts: 0, reason: nil,
                         createdAt: DashboardFixtures.start, updatedAt: DashboardFixtures.start, startedAt: nil, finishedAt: nil)
        let variants: [DashboardData] = [
            // A single run, a single job, started at the same instant as "now".
            DashboardData(generatedAt: at(0), leaderboard: Leaderboard(metric: "", higherIsBetter: false, overfitGap: .nan,
                                                                      publicEvalBudget: 0, directions: [entry]),
                          runs: [run(1, "only", 0.5)], curves: [1: [MetricPoint(key: "loss", value: 1)]], jobs: [job, queued]),
            // Equal scores, a running run, non-finite scores and curve values, an unparsable "now".
            DashboardData(generatedAt: "not a time", leaderboard: Leaderboard(metric: "rmse", higherIsBetter: false, overfitGap: 0.1,
                                                                             publicEvalBudget: 5, directions: [entry]),
                          runs: [run(1, "only", 0.5), run(2, "only", 0.5), run(3, "only", .nan), run(4, "other", .infinity, ended: false)],
                          curves: [2: [MetricPoint(key: "loss", value: .nan, step: 0), MetricPoint(key: "loss", value: .infinity, step: 1)],
                                   3: [MetricPoint(key: "a", value: 2, step: 5), MetricPoint(key: "a", value: 2, step: 5)]],
                          jobs: [job]),
        ]
        for data in variants {
            let html = DashboardRenderer.render(data)
            for id in Self.chartIDs { #expect(html.contains("id=\"\(id)\"")) }
            #expect(Self.nonFiniteTokens(html).isEmpty, "\(Self.nonFiniteTokens(html))")
            _ = try Self.embeddedJSON(html)
        }
    }
}

extension DashboardRendererTests {
    @Test("the leaderboard shows each direction against the leader and where its private score came from")
    func versusLeaderAndSubmission() throws {
        var data = DashboardFixtures.session()
        var entries = data.leaderboard.directions
        let submitted = try #require(entries.indices.first { entries[$0].privateScore != nil && $0 > 0 })
        entries[submitted].vsLeader = LeaderComparison(
            leaderRun: 1, difference: -0.0123, interval: ScoreInterval(low: -0.02, high: 0.003, confidence: 0.95, samples: 1000),
            probabilityBetter: 0.08, distinguishable: false)
        entries[submitted].submission = Submission(
            run: entries[submitted].submittedRun ?? 0, outcome: .mismatch, replayedPublicScore: 0.71, reportedPublicScore: 0.78, time: "t")
        data.leaderboard.directions = entries
        let html = DashboardRenderer.render(data)
        #expect(html.contains("vs leader (95% CI)"))
        #expect(html.contains("≈ −0.0123") || html.contains("≈ -0.0123"), "the difference, marked indistinguishable")
        #expect(html.contains("title=\"mismatch: replayed public 0.7100 vs reported 0.7800\">mismatch</span>"))
        #expect(html.contains(">leader</td>"))
    }
}
