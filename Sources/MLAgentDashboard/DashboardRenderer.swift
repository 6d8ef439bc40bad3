import MLAgentProtocol

/// Renders a research session as one self-contained HTML page: inline CSS, inline SVG charts
/// (readable without JavaScript) and an inline script for tooltips, highlighting, sorting and the
/// curve explorer. The page loads nothing from the network.
public enum DashboardRenderer {
    public static func render(_ data: DashboardData) -> String {
        let m = DashboardModel(data)
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(data.title))</title>
            <style>\(PageAssets.css)</style>
            </head>
            <body>
            <main>

            """
        html += header(m)
        html += section("leaderboard", "Leaderboard",
                        "Directions ranked by the daemon. Public scores with their 95% bootstrap interval (bars share one scale); "
                            + "the gap is \(m.gapDefinition) for the submitted run (positive = private worse)\(m.overfitRuleSentence). "
                            + "Click a row to highlight its direction in every chart; click a column header to sort.",
                        LeaderboardTable.render(m), wide: true)
        html += section("progression", "Score progression",
                        "Each point is a run's public score when it ended; the line is the best score so far. Hollow points are failed runs.",
                        ProgressionChart.render(m))
        html += "<div class=\"grid2\">\n"
        html += section("public-private", "Public vs private",
                        "One point per submitted direction. The red tick from the y = x line marks how far the private score may "
                            + "fall \(m.higherIsBetter ? "below" : "above") the public one before the direction is flagged overfit "
                            + "(the noise margin of its two bootstrap intervals, or the metric's overfit_gap when larger).",
                        PublicPrivateChart.render(m))
        html += section("distribution", "Score distribution",
                        "Box: quartiles and median; whiskers: 1.5 × IQR; every run is a point.", DistributionChart.render(m))
        html += "</div>\n"
        html += section("curves", "Training curves",
                        "Every metric each direction's best run logged at two or more steps (single values such as fit time are in run show and run.json).",
                        CurvesChart.render(m) + CurvesChart.selector(m))
        html += section("shared", "Shared code",
                        "Modules approved onto main under shared/, and the directions whose runs imported them (run start --uses), "
                            + "with those runs' best public score.",
                        SharedCodeTable.render(m), wide: true)
        html += section("timeline", "Timeline",
                        "One bar per job, from its start to its end (or now while it runs), colored by state; below, how many agents ran at once.",
                        TimelineChart.render(m))
        html += """
            <footer>Generated \(HTML.escape(data.generatedAt)) by mlagent · self-contained page, no network access
            <details class="diag"><summary>Render report</summary><pre id="render-report">not rendered (JavaScript is off)</pre></details>
            </footer>
            </main>
            <div id="tip" role="tooltip"></div>
            <script type="application/json" id="dashboard-data">\(CurvesChart.dataJSON(m))</script>
            <script>\(PageAssets.script)</script>
            </body>
            </html>

            """
        return html
    }

    static func header(_ m: DashboardModel) -> String {
        let runs = m.data.runs
        let failed = runs.filter { $0.status == .failed }.count
        let directions = m.directionOrder.count
        var summary = "\(runs.count) run\(runs.count == 1 ? "" : "s") across \(directions) direction\(directions == 1 ? "" : "s") — "
        if let best = m.best {
            summary += "best public score: <b>\(m.score(best.score))</b> "
                + "(<span class=\"swatch\" style=\"background:\(m.color(best.direction))\"></span>\(HTML.escape(best.direction)))"
        } else {
            summary += "no public score yet"
        }
        let entries = m.data.leaderboard.directions
        let submitted = entries.filter { finiteValue($0.privateScore) != nil }.count
        let overfit = entries.filter { m.isOverfit($0) }.count
        let running = m.data.jobs.filter { $0.state == .running }.count
        let starts = m.data.jobs.compactMap { $0.startedAt?.timeIntervalSince1970 } + runs.compactMap { DashboardModel.time($0.startedAt) }
        let span = starts.min().flatMap { start in m.now.map { Fmt.duration($0 - start) } } ?? "—"
        func kpi(_ value: String, _ label: String, bad: Bool = false) -> String {
            "<div class=\"kpi\(bad ? " bad" : "")\"><b>\(value)</b><span>\(label)</span></div>"
        }
        return """
            <header>
            <h1>\(HTML.escape(m.data.title))</h1>
            <p class="summary" id="summary">\(summary)</p>
            <p class="meta">Metric: <b>\(HTML.escape(m.metric))</b> (\(m.higherIsBetter ? "higher" : "lower") is better) · gap = \
            \(m.gapDefinition) · public evaluation budget \(m.data.leaderboard.publicEvalBudget) \
            per direction · generated \(HTML.escape(m.data.generatedAt))</p>
            <div class="kpis">\(kpi("\(runs.count)", "runs"))\(kpi("\(failed)", "failed runs", bad: failed > 0))\
            \(kpi("\(directions)", "directions"))\(kpi("\(submitted)", "submitted"))\(kpi("\(overfit)", "overfit", bad: overfit > 0))\
            \(kpi("\(running)", "agents running"))\(kpi(span, "session time"))\(DashboardUsage.kpis(m))</div>
            </header>

            """
    }

    static func section(_ id: String, _ title: String, _ note: String, _ content: String, wide: Bool = false) -> String {
        "<section id=\"sec-\(id)\"\(wide ? " class=\"wide\"" : "")>\n<h2>\(HTML.escape(title))</h2>\n<p class=\"note\">\(HTML.escape(note))</p>\n"
            + (wide ? "<div class=\"scroll\">\(content)</div>\n" : content) + "</section>\n"
    }
}
