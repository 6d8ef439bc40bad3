import MLAgentProtocol

/// Every run's public score at its end time (start time while it runs), colored by direction,
/// with the cumulative best as a step line.
enum ProgressionChart {
    static func render(_ m: DashboardModel) -> String {
        let (width, height) = (1100.0, 340.0)
        var svg = SVG(id: "chart-progression", width: width, height: height,
                      label: "Public \(m.metric) of every run over time, with the best score so far")
        let points = m.data.runs.compactMap { run -> (run: Run, t: Double, score: Double)? in
            guard let score = finiteValue(run.publicScore),
                let t = DashboardModel.time(run.endedAt) ?? DashboardModel.time(run.startedAt)
            else { return nil }
            return (run, t, score)
        }.sorted { ($0.t, $0.run.id) < ($1.t, $1.run.id) }
        guard let first = points.first, let last = points.last else {
            return SVG.empty(id: "chart-progression", width: width, message: "No scored runs yet")
        }

        let directions = m.directionOrder.filter { d in points.contains { $0.run.direction == d } }
        var items = directions.map { LegendItem(label: DashboardModel.label($0), color: m.color($0), direction: $0, shape: .circle) }
        items += [LegendItem(label: "best so far", color: "#1f2933", shape: .line),
                  LegendItem(label: "failed run", color: "#7b8794", shape: .ring)]
        let legendHeight = svg.legend(items, x: 70, y: 16, maxWidth: width - 90)
        let area = PlotArea(left: 70, top: 16 + legendHeight + 8, right: width - 70, bottom: height - 46)

        let (t0, t1) = Ticks.timeDomain(first.t, last.t)
        let xs = LinearScale(domain: t0, t1, range: area.left, area.right)
        let scores = points.map(\.score)
        let ys = LinearScale(domain: scores.min() ?? 0, scores.max() ?? 1, range: area.bottom, area.top, pad: 0.08)
        svg.yAxis(ys, area, title: "public \(m.metric)")
        svg.xAxis(Ticks.time(t0, t1, count: 8), xs, area, title: "run end time (UTC)")

        // The cumulative best: a step line that moves only when a run beats it.
        var best: Double?
        var step = Path()
        for point in points where point.run.status != .failed {
            guard let current = best else {
                step.move(xs(point.t), ys(point.score))
                best = point.score
                continue
            }
            if m.isBetter(point.score, than: current) {
                step.line(xs(point.t), ys(current))
                step.line(xs(point.t), ys(point.score))
                best = point.score
            }
        }
        if let best {
            step.line(area.right, ys(best))
            svg.path(step, [("class", "best-line"), ("fill", "none"), ("stroke", "#1f2933"), ("stroke-width", "2"),
                            ("stroke-linejoin", "round")], tip: "best so far: \(m.score(best))")
            svg.text(area.right + 4, ys(best) + 4, m.score(best), [("class", "best-label")])
        }

        for point in points {
            let color = m.color(point.run.direction)
            let failed = point.run.status == .failed
            svg.circle(xs(point.t), ys(point.score), failed ? 4 : 5,
                       [("fill", failed ? "#fff" : color), ("stroke", failed ? "#7b8794" : "#fff"),
                        ("stroke-width", failed ? "1.5" : "1"), ("class", "pt"), ("data-dir", point.run.direction)],
                       tip: m.tip(point.run))
        }
        return svg.render()
    }
}
