import ArgumentParser
import Foundation
import MLAgentClient
import MLAgentDashboard
import MLAgentProtocol

struct DashboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Write the results dashboard: one self-contained HTML file (no network needed to view it).",
        discussion: """
            Leaderboard with 95% intervals and flags, score progression with the cumulative best, \
            public versus private per direction, score distributions, training curves of every run, \
            and the timeline of directions and agents. Readable without JavaScript, interactive with it.
            """)

    @Option(name: .long, help: "Where to write the HTML file.")
    var output = "dashboard.html"

    @Option(name: .long, help: "The page title.")
    var title = "mlagent research session"

    @Option(name: .long, help: "Points kept per metric key and run for the curves (evenly spaced, the last one always).")
    var maxPoints = 400

    @OptionGroup var options: GlobalOptions

    func validate() throws {
        guard maxPoints >= 2 else { throw ValidationError("--max-points must be at least 2") }
    }

    func run() throws {
        let data = try options.withClient(timeout: .seconds(300)) { client -> DashboardData in
            let runs = try client.runs()
            var curves: [Int64: [MetricPoint]] = [:]
            for run in runs where run.metricPoints > 0 {
                var points: [MetricPoint] = []
                var after: Int64 = 0
                while true {
                    let page = try client.metricHistory(MetricHistoryParams(run: run.id, after: after, limit: 50_000))
                    points += page.points
                    guard let next = page.next else { break }
                    after = next
                }
                curves[run.id] = Self.downsample(points, perKey: maxPoints)
            }
            return DashboardData(
                title: title, generatedAt: Timestamp.format(Date()), leaderboard: try client.leaderboard(), runs: runs,
                curves: curves, jobs: try client.list(), directions: try client.directions(), usage: try? client.usageReport(),
                sharedModules: (try? client.summary().sharedModules) ?? [])
        }
        let html = DashboardRenderer.render(data)
        let path = absolutePath(output)
        do {
            try html.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw Output.refuse("cannot write \(path): \(error.localizedDescription)")
        }
        if options.json {
            return try options.printJSON([
                "path": path, "directions": String(data.leaderboard.directions.count), "runs": String(data.runs.count),
            ])
        }
        Output.line("wrote \(path) (\(data.leaderboard.directions.count) directions, \(data.runs.count) runs)")
    }

    /// At most `perKey` points of each key, evenly spaced by position in step order, keeping the
    /// first and the last.
    static func downsample(_ points: [MetricPoint], perKey: Int) -> [MetricPoint] {
        var byKey: [String: [MetricPoint]] = [:]
        for point in points { byKey[point.key, default: []].append(point) }
        var result: [MetricPoint] = []
        for key in byKey.keys.sorted() {
            let series = byKey[key]!.sorted { $0.step < $1.step }
            guard series.count > perKey else {
                result += series
                continue
            }
            let stride = Double(series.count - 1) / Double(perKey - 1)
            for index in 0..<perKey { result.append(series[Int((Double(index) * stride).rounded())]) }
        }
        return result
    }
}
