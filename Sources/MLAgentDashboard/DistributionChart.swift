import MLAgentProtocol

/// The public scores of each direction's runs: a box plot (quartiles, Tukey whiskers) per row with
/// every run drawn as a jittered point.
enum DistributionChart {
    static func render(_ m: DashboardModel) -> String {
        let groups = m.directionOrder.compactMap { direction -> (direction: String, runs: [(Run, Double)])? in
            let runs = m.data.runs.filter { $0.direction == direction }.compactMap { run in finiteValue(run.publicScore).map { (run, $0) } }
            return runs.isEmpty ? nil : (direction, runs)
        }
        let rowHeight = groups.isEmpty ? 40 : max(34, min(56, 340 / Double(groups.count)))
        let labelWidth = 150.0
        let width = 560.0
        let height = max(200, 24 + Double(groups.count) * rowHeight + 50)
        var svg = SVG(id: "chart-distribution", width: width, height: height,
                      label: "Distribution of public \(m.metric) per direction")
        guard !groups.isEmpty else {
            return SVG.empty(id: "chart-distribution", width: width, message: "No scored runs yet")
        }
        let area = PlotArea(left: labelWidth, top: 20, right: width - 18, bottom: 20 + Double(groups.count) * rowHeight)
        let all = groups.flatMap { $0.runs.map(\.1) }
        let xs = LinearScale(domain: all.min() ?? 0, all.max() ?? 1, range: area.left, area.right, pad: 0.06)
        let ticks = xs.ticks(5)
        svg.xAxis(ticks.values.map { ($0, Fmt.fixed($0, ticks.decimals)) }, xs, area,
                  title: "public \(m.metric)" + (m.higherIsBetter ? " (higher is better →)" : " (← lower is better)"))

        for (index, group) in groups.enumerated() {
            let mid = area.top + (Double(index) + 0.5) * rowHeight
            let color = m.color(group.direction)
            let dir: SVG.Attrs = [("data-dir", group.direction)]
            if index > 0 { svg.line(8, mid - rowHeight / 2, area.right, mid - rowHeight / 2, [("class", "row-sep")]) }
            svg.text(area.left - 10, mid + 4, HTML.truncate(DashboardModel.label(group.direction), 22),
                     [("text-anchor", "end"), ("class", "row-label pick")] + dir, tip: group.direction)
            let scores = group.runs.map(\.1)
            if let box = BoxStats(scores) {
                let boxHeight = min(22, rowHeight * 0.55)
                let stats = "\(group.direction): \(scores.count) scored run\(scores.count == 1 ? "" : "s")\n"
                    + "median \(m.score(box.median)) · quartiles \(m.score(box.q1))–\(m.score(box.q3))\n"
                    + "whiskers \(m.score(box.whiskerLow))–\(m.score(box.whiskerHigh))"
                svg.line(xs(box.whiskerLow), mid, xs(box.q1), mid, [("stroke", color), ("stroke-width", "1.5")] + dir)
                svg.line(xs(box.q3), mid, xs(box.whiskerHigh), mid, [("stroke", color), ("stroke-width", "1.5")] + dir)
                for end in [box.whiskerLow, box.whiskerHigh] {
                    svg.line(xs(end), mid - boxHeight / 4, xs(end), mid + boxHeight / 4, [("stroke", color), ("stroke-width", "1.5")] + dir)
                }
                svg.rect(xs(box.q1), mid - boxHeight / 2, max(2, xs(box.q3) - xs(box.q1)), boxHeight,
                         [("fill", color), ("fill-opacity", "0.18"), ("stroke", color), ("stroke-width", "1.5"), ("rx", "2")] + dir,
                         tip: stats)
                svg.line(xs(box.median), mid - boxHeight / 2, xs(box.median), mid + boxHeight / 2,
                         [("stroke", color), ("stroke-width", "3")] + dir)
            }
            for (run, score) in group.runs {
                let failed = run.status == .failed
                svg.circle(xs(score), mid + jitter(run.id) * rowHeight * 0.5, 3.2,
                           [("fill", failed ? "#fff" : color), ("fill-opacity", "0.85"), ("stroke", failed ? "#7b8794" : "#fff"),
                            ("stroke-width", "0.8"), ("class", "pt")] + dir, tip: m.tip(run))
            }
        }
        return svg.render()
    }

    /// A stable offset in -0.5...0.5 from the run id, so the page renders the same every time.
    static func jitter(_ id: Int64) -> Double {
        let hash = UInt64(bitPattern: id) &* 0x9E37_79B9_7F4A_7C15
        return Double(hash >> 40) / Double(1 << 24) - 0.5
    }
}
