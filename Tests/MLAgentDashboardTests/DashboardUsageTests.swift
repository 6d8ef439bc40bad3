import MLAgentDashboard
import MLAgentProtocol
import Testing

@Suite("Dashboard cost")
struct DashboardUsageTests {
    @Test("the leaderboard has a cost per direction and the header the session's total and cap")
    func cost() throws {
        var data = DashboardFixtures.session()
        let direction = try #require(data.leaderboard.directions.first?.direction)
        let usage = TokenUsage(inputTokens: 1200, outputTokens: 300, cacheReadTokens: 5000, cacheWriteTokens: 100, costUSD: 0.4321, reported: true)
        data.usage = UsageReport(
            session: usage, maxSessionCostUSD: 10, sessionCapReached: false,
            jobs: [.init(jobID: 2, direction: direction, agent: "claude", usage: usage)],
            directions: [.init(direction: direction, usage: usage)])
        let html = DashboardRenderer.render(data)
        #expect(html.contains("scope=\"col\">Cost</th>"))
        #expect(html.contains("data-v=\"0.4321\" title=\"1,200 input, 300 output, 5,000 cache read, 100 cache write tokens\">$0.4321</td>"))
        #expect(html.contains("<b>$0.4321</b><span>cost</span>"))
        #expect(html.contains("<b>$10.00</b><span>session cap</span>"))
        // Without usage: no cost figures in the header, a dash in the column.
        let plain = DashboardRenderer.render(DashboardFixtures.session())
        #expect(!plain.contains("<span>cost</span>"))
        #expect(plain.contains("<td class=\"num\" data-v=\"\">—</td>"))
    }
}
