import MLAgentProtocol

/// The leaderboard as a sortable HTML table, ranked as given, with an inline interval bar per row
/// drawn on one shared scale.
enum LeaderboardTable {
    static func render(_ m: DashboardModel) -> String {
        let entries = m.data.leaderboard.directions
        let columns: [(String, String)] = [("#", "num"), ("Direction", ""), ("Status", ""),
                                           ("Public \(m.metric) (95% CI)", "num"), ("vs leader (95% CI)", "num"),
                                           ("Private", "num"), ("Gap", "num"),
                                           ("Runs (failed)", "num"), ("Best run", ""), ("Cost", "num"), ("Flags", "")]
        var html = "<table id=\"chart-leaderboard\" class=\"lb sortable\">\n<thead><tr>"
        for (title, cls) in columns {
            html += "<th\(cls.isEmpty ? "" : " class=\"\(cls)\"") scope=\"col\">\(HTML.escape(title))</th>"
        }
        html += "</tr></thead>\n<tbody>\n"
        if entries.isEmpty {
            html += "<tr><td colspan=\"\(columns.count)\" class=\"empty\">No directions yet.</td></tr>\n"
        }
        let bounds = entries.flatMap { [$0.publicInterval?.low, $0.publicInterval?.high, $0.publicScore] }.compactMap { finiteValue($0) }
        let scale = LinearScale(domain: bounds.min() ?? 0, bounds.max() ?? 1, range: 4, 116, pad: 0.04)
        for entry in entries { html += row(entry, m, scale) }
        return html + "</tbody>\n</table>\n"
    }

    private static func row(_ e: LeaderboardEntry, _ m: DashboardModel, _ scale: LinearScale) -> String {
        let dir = HTML.escape(e.direction)
        func cell(_ content: String, sort: String, cls: String = "") -> String {
            "<td\(cls.isEmpty ? "" : " class=\"\(cls)\"") data-v=\"\(HTML.escape(sort))\">\(content)</td>"
        }
        func num(_ value: Double?) -> String { finiteValue(value).map { JSONText.number($0) } ?? "" }
        var html = "<tr data-dir=\"\(dir)\" tabindex=\"0\">"
        html += cell("\(e.rank)", sort: "\(e.rank)", cls: "num")
        let rationale = e.rationale.isEmpty ? "" :
            "<div class=\"rat\" title=\"\(HTML.escape(e.rationale))\">\(HTML.escape(HTML.truncate(e.rationale, 140)))</div>"
        let swatch = "<span class=\"swatch\" style=\"background:\(m.color(e.direction))\"></span>"
        html += cell(swatch + "<b>\(HTML.escape(DashboardModel.label(e.direction)))</b>\(rationale)", sort: e.direction)
        let status = e.status.isEmpty ? "unknown" : e.status
        html += cell("<span class=\"st st-\(HTML.escape(status))\">\(HTML.escape(status.replacingOccurrences(of: "_", with: " ")))</span>",
                     sort: status)

        var publicCell = "<span class=\"score\">\(m.score(e.publicScore))</span>"
        if let interval = e.publicInterval, let low = finiteValue(interval.low), let high = finiteValue(interval.high) {
            publicCell += " <span class=\"ci\">[\(m.score(low)), \(m.score(high))]</span>"
            var bar = SVG(id: nil, width: 120, height: 14, label: "95% interval \(m.score(low)) to \(m.score(high))", cls: "ib")
            bar.line(4, 7, 116, 7, [("class", "ib-track")])
            bar.line(scale(low), 7, scale(high), 7, [("stroke", m.color(e.direction)), ("stroke-width", "3"), ("stroke-linecap", "round")])
            if let score = finiteValue(e.publicScore) {
                bar.circle(scale(score), 7, 3.5, [("fill", "#fff"), ("stroke", m.color(e.direction)), ("stroke-width", "2")])
            }
            publicCell += "<br>" + bar.render()
        }
        html += cell(publicCell, sort: num(e.publicScore), cls: "num")
        html += versusLeader(e, m)
        // Where the private score came from: the daemon's replay of the saved model, or the agent.
        var privateCell = m.score(e.privateScore)
        if let submission = e.submission {
            let outcome = HTML.escape(submission.outcome.rawValue)
            privateCell += "<br><span class=\"badge f-\(outcome)\" title=\"\(HTML.escape(submission.summary))\">\(outcome)</span>"
        }
        html += cell(privateCell, sort: num(e.privateScore), cls: "num")
        let overfit = m.isOverfit(e)
        let gap = finiteValue(e.gap).map { Fmt.signed($0, m.scoreDecimals) } ?? "—"
        html += cell(overfit ? "<span class=\"bad\">\(gap)</span>" : gap, sort: num(e.gap), cls: "num")
        html += cell("\(e.runs)" + (e.failedRuns > 0 ? " <span class=\"muted\">(\(e.failedRuns) failed)</span>" : ""),
                     sort: "\(e.runs)", cls: "num")
        let best = e.bestRun.map { "#\($0)" + (e.bestRunName.map { " <span class=\"muted\">\(HTML.escape($0))</span>" } ?? "") } ?? "—"
        html += cell(best, sort: e.bestRun.map { "\($0)" } ?? "", cls: "nowrap")
        html += DashboardUsage.cell(e.direction, m)
        var flags = e.flags
        if overfit, !flags.contains("overfit") { flags.insert("overfit", at: 0) }
        let badges = flags.map { flag in
            let text = (flag == "overfit" ? "⚠ " : "") + flag.replacingOccurrences(of: "_", with: " ")
            return "<span class=\"badge f-\(HTML.escape(flag))\">\(HTML.escape(text))</span>"
        }
        // Why the direction is flagged (or, for a submission, why not), in the daemon's words.
        var why = ""
        if let reason = overfit ? e.overfitReason : e.gapNote, !reason.isEmpty {
            why = "<div class=\"why\">\(overfit ? "overfit: " : "")\(HTML.escape(reason))</div>"
        }
        html += cell(badges.joined(separator: " ") + why, sort: flags.joined(separator: ","))
        return html + "</tr>\n"
    }

    /// The best run against the leader's on the same public rows (paired bootstrap), "≈" where
    /// the interval includes 0.
    private static func versusLeader(_ e: LeaderboardEntry, _ m: DashboardModel) -> String {
        guard let versus = e.vsLeader, let difference = finiteValue(versus.difference) else {
            let text = e.rank == 1 && e.publicScore != nil ? "leader" : "—"
            return "<td class=\"num\" data-v=\"\(e.rank == 1 ? "0" : "")\">\(text)</td>"
        }
        var text = (versus.distinguishable ? "" : "≈ ") + Fmt.signed(difference, m.scoreDecimals)
        if let interval = versus.interval, let low = finiteValue(interval.low), let high = finiteValue(interval.high) {
            text += " <span class=\"ci\">[\(Fmt.signed(low, m.scoreDecimals)), \(Fmt.signed(high, m.scoreDecimals))]</span>"
        }
        let title = versus.distinguishable ? "distinguishable from the leader" : "indistinguishable from the leader (the interval includes 0)"
        return "<td class=\"num\" data-v=\"\(JSONText.number(difference))\" title=\"\(title)\">\(text)</td>"
    }
}
