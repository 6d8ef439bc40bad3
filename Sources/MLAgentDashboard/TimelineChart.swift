import MLAgentProtocol

/// A Gantt chart of the jobs (one bar per job from start to finish, or to now while it runs),
/// colored by state, with the number of agents running at once underneath.
enum TimelineChart {
    static let stateColors: [JobState: String] = [
        .completed: "#4caf7d", .failed: "#d62728", .cancelled: "#a0a7b0", .running: "#2f6fde",
        .interrupted: "#f0a030", .queued: "#cbd2d9",
    ]

    static func render(_ m: DashboardModel) -> String {
        let width = 1100.0
        let jobs = m.data.jobs.compactMap { job -> (job: Job, start: Double, end: Double)? in
            guard let start = finiteValue(job.startedAt?.timeIntervalSince1970) else { return nil }
            let end = finiteValue(job.finishedAt?.timeIntervalSince1970) ?? (job.state.isFinal ? nil : m.now)
                ?? finiteValue(job.updatedAt.timeIntervalSince1970) ?? start
            return (job, start, max(start, end))
        }.sorted { ($0.start, $0.job.id) < ($1.start, $1.job.id) }
        let rowHeight = 22.0
        let stripHeight = 56.0
        guard let t0 = jobs.map(\.start).min(), let t1 = jobs.map(\.end).max() else {
            return SVG.empty(id: "chart-timeline", width: width, message: "No job has started yet")
        }
        let states = JobState.allCases.filter { state in jobs.contains { $0.job.state == state } }
        let legendTop = 16.0
        let ganttTop = legendTop + 22
        let ganttBottom = ganttTop + Double(jobs.count) * rowHeight
        let stripTop = ganttBottom + 18
        let height = stripTop + stripHeight + 48
        var svg = SVG(id: "chart-timeline", width: width, height: height,
                      label: "Jobs over time, colored by state, with the number of agents running at once")
        svg.legend(states.map { LegendItem(label: $0.rawValue, color: stateColors[$0] ?? "#999") }, x: 250, y: legendTop, maxWidth: width - 270)

        let area = PlotArea(left: 250, top: ganttTop, right: width - 20, bottom: stripTop + stripHeight)
        let (d0, d1) = Ticks.timeDomain(t0, t1)
        let xs = LinearScale(domain: d0, d1, range: area.left, area.right)
        for index in jobs.indices where index % 2 == 1 {
            svg.rect(0, ganttTop + Double(index) * rowHeight, width, rowHeight, [("class", "band")])
        }
        svg.xAxis(Ticks.time(d0, d1, count: 9), xs, area, title: "time (UTC)")

        for (index, item) in jobs.enumerated() {
            let y = ganttTop + Double(index) * rowHeight
            let job = item.job
            let name = DashboardModel.label(job.direction)
            let dir: SVG.Attrs = job.direction.isEmpty ? [] : [("data-dir", job.direction)]
            svg.rect(10, y + rowHeight / 2 - 4, 8, 8, [("fill", job.direction.isEmpty ? "#cbd2d9" : m.color(job.direction)), ("rx", "2")] + dir)
            let agent = job.agent.isEmpty ? "" : " · " + job.agent
            svg.text(24, y + rowHeight / 2 + 4, HTML.truncate(name, 30 - min(12, agent.count)) + agent, [("class", "row-label")] + dir,
                     tip: "job #\(job.id): \(name)\(agent)")
            let running = !job.state.isFinal && job.finishedAt == nil
            var lines = ["job #\(job.id) · \(name)\(agent)", "\(job.state.rawValue)\(job.attempts > 1 ? " (attempt \(job.attempts))" : "")",
                         "\(Fmt.time(item.start)) → \(running ? "now" : Fmt.time(item.end, style: .minutes)) UTC "
                            + "(\(Fmt.duration(item.end - item.start)))"]
            if let reason = job.reason, !reason.isEmpty { lines.append(HTML.truncate(reason, 200)) }
            svg.rect(xs(item.start), y + 4, max(3, xs(item.end) - xs(item.start)), rowHeight - 8,
                     [("fill", stateColors[job.state] ?? "#999"), ("rx", "3"), ("class", running ? "bar running" : "bar")] + dir,
                     tip: lines.joined(separator: "\n"))
        }
        if let now = m.now, jobs.contains(where: { !$0.job.state.isFinal }), now >= d0, now <= d1 {
            svg.line(xs(now), ganttTop - 4, xs(now), area.bottom, [("class", "now")])
            svg.text(xs(now), ganttTop - 7, "now", [("class", "now-label"), ("text-anchor", "middle")])
        }

        // Agents running at once: a step area over start (+1) and end (−1) events.
        let events = jobs.flatMap { [($0.start, 1), ($0.end, -1)] }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        var counts: [(Double, Int)] = []
        var running = 0
        for (t, delta) in events {
            running += delta
            if let last = counts.last, last.0 == t { counts[counts.count - 1].1 = running } else { counts.append((t, running)) }
        }
        let peak = max(1, counts.map(\.1).max() ?? 1)
        let strip = PlotArea(left: area.left, top: stripTop, right: area.right, bottom: stripTop + stripHeight)
        let ys = LinearScale(domain: 0, Double(peak), range: strip.bottom, strip.top + 6)
        svg.yAxis(ys, strip, title: "", count: min(peak, 4), minStep: 1)
        svg.text(24, strip.top + stripHeight / 2 + 4, "agents running", [("class", "row-label")])
        svg.text(24, strip.top + stripHeight / 2 + 19, "peak \(peak)", [("class", "muted-label")])
        var area2 = Path()
        area2.move(xs(t0), ys(0))
        var level = 0
        for (t, count) in counts {
            area2.line(xs(t), ys(Double(level)))
            area2.line(xs(t), ys(Double(count)))
            level = count
        }
        area2.line(xs(t1), ys(Double(level)))
        area2.line(xs(t1), ys(0))
        area2.closed()
        svg.path(area2, [("class", "concurrency")], tip: "at most \(peak) agent\(peak == 1 ? "" : "s") ran at once")
        return svg.render()
    }
}
