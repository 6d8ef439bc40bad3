import MLAgentProtocol

/// The submitted run of each direction: public score against private score, with the y = x line
/// and, from it, each direction's overfit threshold (private worse than public by more than the
/// noise margin of its bootstrap intervals, or the metric's overfit_gap when larger).
enum PublicPrivateChart {
    static func render(_ m: DashboardModel) -> String {
        let (width, height) = (560.0, 410.0)
        var svg = SVG(id: "chart-public-private", width: width, height: height,
                      label: "Public versus private \(m.metric) of each direction's submitted run")
        let points = m.data.leaderboard.directions.compactMap { entry -> (entry: LeaderboardEntry, x: Double, y: Double)? in
            guard let priv = finiteValue(entry.privateScore), let pub = finiteValue(entry.submittedPublicScore) ?? finiteValue(entry.publicScore)
            else { return nil }
            return (entry, pub, priv)
        }
        guard !points.isEmpty else {
            return SVG.empty(id: "chart-public-private", width: width, message: "No direction has submitted a run yet")
        }
        let legendHeight = svg.legend([
            LegendItem(label: "submitted", color: "#4e79a7", shape: .circle),
            LegendItem(label: "overfit", color: DashboardModel.bad, shape: .diamond),
            LegendItem(label: "y = x", color: "#9aa5b1", shape: .dashed),
            LegendItem(label: "overfit threshold", color: DashboardModel.bad, shape: .line),
        ], x: 64, y: 16, maxWidth: width - 80)
        let area = PlotArea(left: 64, top: 16 + legendHeight + 8, right: width - 18, bottom: height - 46)

        let sign: Double = m.higherIsBetter ? -1 : 1
        let thresholds = points.map { point in m.gapThreshold(point.entry).map { point.x + sign * max(0, $0) } }
        let values = points.flatMap { [$0.x, $0.y] } + thresholds.compactMap { $0 }
        let xs = LinearScale(domain: values.min() ?? 0, values.max() ?? 1, range: area.left, area.right, pad: 0.15)
        let ys = LinearScale(domain: xs.d0, xs.d1, range: area.bottom, area.top)
        svg.yAxis(ys, area, title: "private \(m.metric)")
        let ticks = xs.ticks(5)
        svg.xAxis(ticks.values.map { ($0, Fmt.fixed($0, ticks.decimals)) }, xs, area, title: "public \(m.metric) (submitted run)")

        let (d0, d1) = (xs.d0, xs.d1)
        svg.line(xs(d0), ys(d0), xs(d1), ys(d1), [("stroke", "#9aa5b1"), ("stroke-dasharray", "5 4"), ("stroke-width", "1.5")])

        // Each direction's threshold: a red tick from y = x to where the flag starts.
        for (point, limit) in zip(points, thresholds) {
            guard let limit else { continue }
            let (x, y0, y1) = (xs(point.x), ys(point.x), ys(limit))
            let tip = "\(point.entry.direction): flagged overfit when private is \(m.higherIsBetter ? "below" : "above") "
                + "\(m.score(limit)) (threshold \(m.score(finiteValue(point.entry.gapThreshold) ?? abs(limit - point.x))))"
            var tick = Path()
            tick.move(x, y0)
            tick.line(x, y1)
            tick.move(x - 5, y1)
            tick.line(x + 5, y1)
            svg.path(tick, [("fill", "none"), ("stroke", DashboardModel.bad), ("stroke-width", "1.5"), ("opacity", "0.6"),
                            ("class", "pp-threshold"), ("data-dir", point.entry.direction)], tip: tip)
        }

        var placed: [(x: Double, y: Double, w: Double)] = []
        for point in points {
            let (x, y) = (xs(point.x), ys(point.y))
            let overfit = m.isOverfit(point.entry)
            let name = HTML.truncate(DashboardModel.label(point.entry.direction), 26)
            let tip = [point.entry.direction, "public \(m.score(point.x)) · private \(m.score(point.y))",
                       "gap (\(m.gapDefinition)) \(finiteValue(point.entry.gap).map { Fmt.signed($0, m.scoreDecimals) } ?? "—")"
                        + (overfit ? " ⚠ overfit" : ""),
                       (overfit ? point.entry.overfitReason : point.entry.gapNote) ?? "",
                       point.entry.submittedRun.map { "submitted run #\($0)" } ?? ""].filter { !$0.isEmpty }.joined(separator: "\n")
            let attrs: SVG.Attrs = [("data-dir", point.entry.direction), ("class", "pt")]
            if overfit {
                svg.path(SVG.diamond(x, y, 8), [("fill", DashboardModel.bad), ("stroke", "#fff"), ("stroke-width", "1.5")] + attrs, tip: tip)
            } else {
                svg.circle(x, y, 6.5, [("fill", m.color(point.entry.direction)), ("stroke", "#fff"), ("stroke-width", "1.5")] + attrs, tip: tip)
            }
            // Place the label beside the point where it overlaps no earlier label.
            let labelWidth = Double(name.count) * 7.1 + (overfit ? 16 : 0)
            let candidates = [(10.0, 4.0), (10, -10), (10, 18), (-10 - labelWidth, 4), (-10 - labelWidth, -10), (10, -24), (10, 32)]
            var chosen = candidates[0]
            for candidate in candidates {
                let lx = x + candidate.0, ly = y + candidate.1
                if lx + labelWidth > area.right + 10 || lx < area.left { continue }
                if placed.contains(where: { abs($0.y - ly) < 13 && lx < $0.x + $0.w && $0.x < lx + labelWidth }) { continue }
                chosen = candidate
                break
            }
            let (lx, ly) = (x + chosen.0, y + chosen.1)
            placed.append((lx, ly, labelWidth))
            svg.text(lx, ly, (overfit ? "⚠ " : "") + name,
                     [("class", overfit ? "pp-label bad" : "pp-label"), ("data-dir", point.entry.direction)])
        }
        return svg.render()
    }
}
