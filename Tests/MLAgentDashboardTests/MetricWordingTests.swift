import Foundation
import MLAgentDashboard
import MLAgentProtocol
import Testing

/// The page follows the metric and the data: the gap's definition, why a direction is flagged,
/// and time axes scaled to the session (three seconds, not ten minutes).
@Suite("Dashboard wording and scales")
struct MetricWordingTests {
    static let start = DashboardFixtures.start

    static func at(_ seconds: Double) -> String { Timestamp.format(start.addingTimeInterval(seconds)) }

    /// A three-second RMSE session with two submitted directions, one flagged.
    static func rmseSession() -> DashboardData {
        let reason = "private 12.0000 is above public 8.1600 by 3.8400, more than the 95% noise margin of the gap (0.6600)"
        func entry(_ name: String, rank: Int, privateScore: Double, flagged: Bool) -> LeaderboardEntry {
            LeaderboardEntry(
                rank: rank, direction: name, branch: "exp/\(name)", status: "completed", jobID: Int64(rank), publicScore: 8.16,
                publicInterval: ScoreInterval(low: 7.69, high: 8.63, confidence: 0.95, samples: 1000), bestRun: Int64(rank),
                bestRunName: "r", submittedRun: Int64(rank), submittedPublicScore: 8.16, privateScore: privateScore,
                gap: privateScore - 8.16, runs: 1, failedRuns: 0, publicEvals: 1, flags: flagged ? ["overfit"] : [],
                rationale: "", startedAt: at(0), finishedAt: at(3), gapThreshold: 0.66, overfitReason: flagged ? reason : nil,
                gapNote: flagged ? reason : "private 8.1800 is above public 8.1600 by 0.0200, within the noise: chance explains it")
        }
        let board = Leaderboard(
            metric: "rmse", higherIsBetter: false, overfitGap: 0.02, publicEvalBudget: 10,
            directions: [entry("steady", rank: 1, privateScore: 8.18, flagged: false),
                         entry("overfits", rank: 2, privateScore: 12, flagged: true)],
            overfitRule: "flagged overfit when the gap (private − public) exceeds both the 95% noise margin and overfit_gap 2% of the public score")
        let runs = [(1, "steady", 0.4, 1.2), (2, "overfits", 0.6, 2.9)].map { id, direction, begin, end in
            Run(id: Int64(id), direction: direction, jobID: Int64(id), name: "r", status: .finished, rationale: "", analysis: nil,
                startedAt: at(begin), endedAt: at(end), publicScore: 8.16,
                publicInterval: ScoreInterval(low: 7.69, high: 8.63, confidence: 0.95, samples: 1000), publicEvals: 1,
                privateScore: nil, metricPoints: 1, hasModel: true)
        }
        let jobs = [(1, "steady", 0.1, 1.5), (2, "overfits", 0.2, 3.1)].map { id, direction, begin, end in
            Job(id: Int64(id), direction: direction, guidance: "", agent: "command", priority: 0, state: .completed, attempts: 1,
                reason: nil, createdAt: start, updatedAt: start.addingTimeInterval(end), startedAt: start.addingTimeInterval(begin),
                finishedAt: start.addingTimeInterval(end))
        }
        return DashboardData(generatedAt: at(3.2), leaderboard: board, runs: runs, jobs: jobs)
    }

    /// The SVG of one chart.
    static func chart(_ id: String, in html: String) throws -> String {
        let start = try #require(html.range(of: "id=\"\(id)\""))
        let end = try #require(html.range(of: "</svg>", range: start.upperBound..<html.endIndex))
        return String(html[start.lowerBound..<end.upperBound])
    }

    /// The HH:MM:SS tick labels of a chart, in seconds after the session's start.
    static func timeTicks(_ svg: String) -> [Double] {
        let pattern = try! NSRegularExpression(pattern: #">(\d\d):(\d\d):(\d\d)<"#)
        return pattern.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)).compactMap { match in
            let parts = (1...3).compactMap { Range(match.range(at: $0), in: svg).flatMap { Double(svg[$0]) } }
            guard parts.count == 3 else { return nil }
            return parts[0] * 3600 + parts[1] * 60 + parts[2] - 8 * 3600  // the session starts at 08:00:00
        }
    }

    @Test("a three-second session gets axes of seconds, spanning the session")
    func timeAxesFollowTheData() throws {
        let html = DashboardRenderer.render(Self.rmseSession())
        for id in ["chart-progression", "chart-timeline"] {
            let ticks = Self.timeTicks(try Self.chart(id, in: html))
            #expect(ticks.count >= 2, "\(id): \(ticks)")
            #expect(ticks.allSatisfy { $0 >= -1 && $0 <= 4 }, "\(id) ticks beyond the session: \(ticks)")
        }
    }

    @Test("the gap follows the metric: private − public for RMSE, public − private for ROC AUC")
    func gapDefinition() {
        let rmse = DashboardRenderer.render(Self.rmseSession())
        #expect(rmse.contains("the gap is private − public for the submitted run"))
        #expect(!rmse.contains("public minus private"))
        let auc = DashboardRenderer.render(DashboardFixtures.session())
        #expect(auc.contains("the gap is public − private for the submitted run"))
    }

    @Test("why a direction is flagged, and why another is not, is on the page")
    func reasons() {
        let html = DashboardRenderer.render(Self.rmseSession())
        #expect(html.contains("<div class=\"why\">overfit: private 12.0000 is above public 8.1600 by 3.8400"))
        #expect(html.contains("<div class=\"why\">private 8.1800 is above public 8.1600 by 0.0200, within the noise"))
        #expect(html.contains("a direction is flagged overfit when the gap (private − public) exceeds both"))
        #expect(html.contains("class=\"pp-threshold\""), "each submission's threshold is drawn")
        #expect(DashboardRendererTests.nonFiniteTokens(html).isEmpty)
    }
}
