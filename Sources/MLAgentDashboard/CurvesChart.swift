import MLAgentProtocol

/// Training curves: small multiples of each direction's best run (one line per metric key), the
/// run selector, and the JSON block the page script redraws any run's curves from.
enum CurvesChart {
    /// Metric key colors, distinct from the direction colors.
    static let keyPalette = ["#1b6ca8", "#e8702a", "#2a9d55", "#c2185b", "#6a4c93", "#00838f", "#8d6e63", "#546e7a",
                             "#d4a017", "#7cb342"]

    /// Points per key, sorted by step, finite values only. Keys logged at fewer than two steps
    /// are single values (a fit time, a tree count), not curves: drawn on the same axes they
    /// would flatten the curves, so they are left to `run show` and `run.json`.
    static func series(_ points: [MetricPoint]) -> [(key: String, points: [(step: Double, value: Double)])] {
        Dictionary(grouping: points.filter { $0.value.isFinite }, by: \.key)
            .map { key, points in (key, points.sorted { $0.step < $1.step }.map { (Double($0.step), $0.value) }) }
            .filter { Set($0.points.map(\.step)).count >= 2 }
            .sorted { $0.key < $1.key }
    }

    static func keyColors(_ m: DashboardModel) -> [String: String] {
        let keys = Set(m.data.curves.values.flatMap { series($0).map(\.key) }).sorted()
        return Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, keyPalette[$0 % keyPalette.count]) })
    }

    /// The run whose curves represent a direction: its leaderboard best run, else its best scored run.
    static func bestRuns(_ m: DashboardModel) -> [Run] {
        let byID = Dictionary(m.data.runs.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return m.directionOrder.compactMap { direction in
            if let id = m.data.leaderboard.directions.first(where: { $0.direction == direction })?.bestRun, let run = byID[id] {
                return run
            }
            let scored = m.data.runs.filter { $0.direction == direction && $0.status != .failed && finiteValue($0.publicScore) != nil }
            return scored.min { m.isBetter($0.publicScore ?? 0, than: $1.publicScore ?? 0) }
        }
    }

    static func render(_ m: DashboardModel) -> String {
        let runs = bestRuns(m)
        let colors = keyColors(m)
        let (columns, width, panelHeight, gap) = (3, 1100.0, 180.0, 20.0)
        let panelWidth = (width - 20 - gap * Double(columns - 1)) / Double(columns)
        let keys = colors.keys.sorted()
        let legendItems = keys.map { LegendItem(label: $0, color: colors[$0] ?? "#000", shape: .line) }
        let legendHeight = keys.isEmpty ? 0 : 18 * Double(max(1, (keys.count + 7) / 8)) + 6
        let rows = (runs.count + columns - 1) / columns
        let height = max(160, legendHeight + 14 + Double(rows) * (panelHeight + gap))
        var svg = SVG(id: "chart-curves", width: width, height: height, label: "Training curves of each direction's best run")
        guard !runs.isEmpty else {
            return SVG.empty(id: "chart-curves", width: width, message: "No scored runs yet")
        }
        svg.legend(legendItems, x: 12, y: 16, maxWidth: width - 24)
        for (index, run) in runs.enumerated() {
            let x = 10 + Double(index % columns) * (panelWidth + gap)
            let y = legendHeight + 14 + Double(index / columns) * (panelHeight + gap)
            svg.open("g", [("data-dir", run.direction), ("class", "panel")])
            svg.rect(x, y + 6, 10, 10, [("fill", m.color(run.direction)), ("rx", "2")])
            svg.text(x + 15, y + 15, HTML.truncate("\(DashboardModel.label(run.direction)) · #\(run.id) \(run.name)", 52),
                     [("class", "panel-title")], tip: m.tip(run))
            panel(&svg, series(m.data.curves[run.id] ?? []), colors,
                  PlotArea(left: x + 46, top: y + 28, right: x + panelWidth - 6, bottom: y + panelHeight - 34))
            svg.close("g")
        }
        return svg.render()
    }

    /// One run's curves in `area`: a line per key on shared axes.
    static func panel(_ svg: inout SVG, _ series: [(key: String, points: [(step: Double, value: Double)])],
                      _ colors: [String: String], _ area: PlotArea) {
        let points = series.flatMap(\.points)
        guard let firstStep = points.map(\.step).min(), let lastStep = points.map(\.step).max(),
            let low = points.map(\.value).min(), let high = points.map(\.value).max()
        else {
            svg.rect(area.left, area.top, area.width, area.height, [("class", "nodata")])
            svg.text((area.left + area.right) / 2, (area.top + area.bottom) / 2, "no curves logged",
                     [("class", "empty"), ("text-anchor", "middle")])
            return
        }
        let xs = LinearScale(domain: firstStep, lastStep, range: area.left, area.right)
        let ys = LinearScale(domain: low, high, range: area.bottom, area.top, pad: 0.05)
        svg.yAxis(ys, area, title: "", count: 4)
        let ticks = xs.ticks(5, minStep: 1)
        svg.xAxis(ticks.values.map { ($0, Fmt.fixed($0, 0)) }, xs, area, title: "step")
        for (key, points) in series {
            let color = colors[key] ?? "#000"
            let last = points[points.count - 1]
            let tip = "\(key): last \(Fmt.fixed(last.value, 4)) at step \(Fmt.fixed(last.step, 0)) · \(points.count) points"
            if points.count == 1 {
                svg.circle(xs(last.step), ys(last.value), 3, [("fill", color), ("class", "pt")], tip: tip)
                continue
            }
            var path = Path()
            for (i, point) in points.enumerated() {
                if i == 0 { path.move(xs(point.step), ys(point.value)) } else { path.line(xs(point.step), ys(point.value)) }
            }
            svg.path(path, [("fill", "none"), ("stroke", color), ("stroke-width", "1.8"), ("stroke-linejoin", "round"),
                            ("class", "curve")], tip: tip)
        }
    }

    /// The run selector (shown with JavaScript): every run, grouped by direction, the overall best selected.
    static func selector(_ m: DashboardModel) -> String {
        guard !m.data.runs.isEmpty else { return "" }
        let selected = m.data.leaderboard.directions.first?.bestRun ?? bestRuns(m).first?.id
        var html = "<div class=\"controls js-only\"><label for=\"curve-run\">Show the curves of run </label><select id=\"curve-run\">"
        for direction in m.directionOrder {
            let runs = m.data.runs.filter { $0.direction == direction }.sorted { $0.id < $1.id }
            guard !runs.isEmpty else { continue }
            html += "<optgroup label=\"\(HTML.escape(DashboardModel.label(direction)))\">"
            for run in runs {
                let points = m.data.curves[run.id]?.count ?? 0
                html += "<option value=\"\(run.id)\"\(run.id == selected ? " selected" : "")>#\(run.id) \(HTML.escape(run.name))"
                    + " · \(m.score(run.publicScore))\(run.status == .failed ? " · failed" : "")\(points == 0 ? " · no curves" : "")</option>"
            }
            html += "</optgroup>"
        }
        html += "</select></div>\n"
        return html + "<svg id=\"curve-explorer\" class=\"chart js-only\" viewBox=\"0 0 1100 250\" role=\"img\" "
            + "aria-label=\"Curves of the selected run\"></svg>\n"
    }

    /// The data block for the page script; `<`, `>` and `&` are escaped inside strings.
    static func dataJSON(_ m: DashboardModel) -> String {
        func object(_ pairs: [(String, String)]) -> String {
            "{" + pairs.map { JSONText.string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
        }
        let colors = keyColors(m)
        let runs = m.data.runs.sorted { $0.id < $1.id }.map { run in
            let curves = series(m.data.curves[run.id] ?? []).map { key, points in
                (key, "[" + points.map { "[\(JSONText.number($0.step)),\(JSONText.number($0.value))]" }.joined(separator: ",") + "]")
            }
            return object([("id", "\(run.id)"), ("direction", JSONText.string(run.direction)), ("name", JSONText.string(run.name)),
                           ("status", JSONText.string(run.status.rawValue)), ("score", JSONText.number(run.publicScore)),
                           ("tip", JSONText.string(m.tip(run))), ("curves", object(curves))])
        }
        return object([
            ("metric", JSONText.string(m.metric)), ("higherIsBetter", m.higherIsBetter ? "true" : "false"),
            ("colors", object(m.directionOrder.map { ($0, JSONText.string(m.color($0))) })),
            ("keyColors", object(colors.keys.sorted().map { ($0, JSONText.string(colors[$0] ?? "#000")) })),
            ("runs", "[" + runs.joined(separator: ",\n") + "]"),
        ])
    }
}
