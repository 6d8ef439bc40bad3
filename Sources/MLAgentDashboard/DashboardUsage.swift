import MLAgentProtocol

/// Tokens and cost on the dashboard: a Cost column in the leaderboard (each direction's jobs
/// together) and the session's total beside the other figures of the header.
enum DashboardUsage {
    /// The cost cell of a direction's row: dollars (`~` when estimated), its tokens as a tooltip.
    static func cell(_ direction: String, _ m: DashboardModel) -> String {
        guard let usage = m.data.usage?.usage(ofDirection: direction) else {
            return "<td class=\"num\" data-v=\"\">—</td>"
        }
        let title = "\(USD.tokens(usage.inputTokens)) input, \(USD.tokens(usage.outputTokens)) output, "
            + "\(USD.tokens(usage.cacheReadTokens)) cache read, \(USD.tokens(usage.cacheWriteTokens)) cache write tokens"
            + (usage.reported ? "" : "; estimated from the profile's prices")
        return "<td class=\"num\" data-v=\"\(JSONText.number(usage.costUSD))\" title=\"\(HTML.escape(title))\">"
            + "\(HTML.escape(USD.format(usage.costUSD)))\(usage.reported ? "" : "~")</td>"
    }

    /// The header's cost figures: the session's total, and its cap when one is set.
    static func kpis(_ m: DashboardModel) -> String {
        guard let report = m.data.usage, !report.jobs.isEmpty else { return "" }
        let total = USD.format(report.session.costUSD) + (report.session.reported ? "" : "~")
        var html = "<div class=\"kpi\" title=\"\(USD.tokens(report.session.totalTokens)) tokens\"><b>\(HTML.escape(total))</b><span>cost</span></div>"
        if let cap = report.maxSessionCostUSD {
            html += "<div class=\"kpi\(report.sessionCapReached ? " bad" : "")\"><b>\(HTML.escape(USD.format(cap)))</b>"
                + "<span>session cap\(report.sessionCapReached ? " reached" : "")</span></div>"
        }
        return html
    }
}
