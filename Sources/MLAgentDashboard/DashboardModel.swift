import Foundation
import MLAgentProtocol

/// What every chart shares: one color per direction, score formatting, parsed times and "now".
struct DashboardModel {
    /// Direction colors (no pure red: red means "overfit" or "failed").
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#17becf", "#bcbd22", "#9c755f", "#e377c2",
                          "#1f3b73", "#7f7f7f"]
    static let bad = "#d62728"

    let data: DashboardData
    /// Directions in leaderboard order, then any others in order of appearance.
    let directionOrder: [String]
    let scoreDecimals: Int
    /// Seconds since the epoch: `generatedAt`, or the latest time in the data.
    let now: Double?
    private let colors: [String: String]

    init(_ data: DashboardData) {
        self.data = data
        var order: [String] = []
        var seen = Set<String>()
        func add(_ name: String) { if seen.insert(name).inserted { order.append(name) } }
        data.leaderboard.directions.forEach { add($0.direction) }
        data.directions.forEach { add($0.name) }
        data.runs.forEach { add($0.direction) }
        data.jobs.filter { !$0.direction.isEmpty }.forEach { add($0.direction) }
        directionOrder = order
        colors = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, Self.palette[$0 % Self.palette.count]) })

        let scores = data.runs.flatMap { [$0.publicScore, $0.privateScore] }
            + data.leaderboard.directions.flatMap { [$0.publicScore, $0.privateScore] }
        scoreDecimals = Fmt.scoreDecimals(maxAbs: scores.compactMap { finiteValue($0).map(abs) }.max() ?? 0)

        let times = data.runs.flatMap { [Self.time($0.startedAt), Self.time($0.endedAt)] }
            + data.jobs.flatMap { [$0.startedAt, $0.finishedAt].map { $0?.timeIntervalSince1970 } }
        now = Self.time(data.generatedAt) ?? times.compactMap { finiteValue($0) }.max()
    }

    var higherIsBetter: Bool { data.leaderboard.higherIsBetter }
    var metric: String { data.leaderboard.metric.isEmpty ? "score" : data.leaderboard.metric }

    func color(_ direction: String) -> String { colors[direction] ?? "#7f7f7f" }

    func score(_ value: Double?) -> String {
        guard let value = finiteValue(value) else { return "—" }
        return Fmt.fixed(value, scoreDecimals)
    }

    func isBetter(_ a: Double, than b: Double) -> Bool { higherIsBetter ? a > b : a < b }

    /// The best public score and its direction: from the leaderboard, else from the runs.
    var best: (score: Double, direction: String)? {
        let candidates = data.leaderboard.directions.compactMap { entry in finiteValue(entry.publicScore).map { ($0, entry.direction) } }
        let fallback = data.runs.filter { $0.status != .failed }.compactMap { run in finiteValue(run.publicScore).map { ($0, run.direction) } }
        var best: (score: Double, direction: String)?
        for (score, direction) in candidates.isEmpty ? fallback : candidates where best.map({ isBetter(score, than: $0.score) }) ?? true {
            best = (score, direction)
        }
        return best
    }

    /// The overfit flag of a leaderboard entry, as the daemon judged it (the gap against the
    /// entry's own threshold: the noise margin of its intervals or the metric's overfit_gap).
    func isOverfit(_ entry: LeaderboardEntry) -> Bool {
        entry.flags.contains("overfit")
    }

    /// "public − private" or "private − public": positive always means the private score is worse.
    var gapDefinition: String { data.leaderboard.gapDefinition }

    /// "; a direction is flagged overfit when …" when the daemon said so, else nothing.
    var overfitRuleSentence: String {
        guard let rule = data.leaderboard.overfitRule, !rule.isEmpty else { return "" }
        return "; a direction is \(rule)"
    }

    /// The gap above which an entry is flagged: its own threshold, else the leaderboard's
    /// absolute overfit_gap (data from before thresholds were kept).
    func gapThreshold(_ entry: LeaderboardEntry) -> Double? {
        finiteValue(entry.gapThreshold) ?? (data.leaderboard.overfitRule == nil ? finiteValue(data.leaderboard.overfitGap) : nil)
    }

    /// The tooltip of a run: id, name, direction, score with interval, times.
    func tip(_ run: Run) -> String {
        var lines = ["run #\(run.id) \(run.name)", Self.label(run.direction) + " · " + run.status.rawValue]
        if let score = finiteValue(run.publicScore) {
            var line = "public \(metric) \(self.score(score))"
            if let interval = run.publicInterval, finiteValue(interval.low) != nil, finiteValue(interval.high) != nil {
                line += " (95% CI \(self.score(interval.low))–\(self.score(interval.high)))"
            }
            lines.append(line)
        }
        if let score = finiteValue(run.privateScore) { lines.append("private \(self.score(score))") }
        if let start = Self.time(run.startedAt) {
            let end = Self.time(run.endedAt)
            let until = end.map { " → " + Fmt.time($0, style: .minutes) + " UTC (\(Fmt.duration($0 - start)))" }
            lines.append(Fmt.time(start) + (until ?? " UTC, running"))
        }
        return lines.joined(separator: "\n")
    }

    static func time(_ text: String?) -> Double? {
        guard let text, !text.isEmpty, let date = try? Timestamp.parse(text) else { return nil }
        return finiteValue(date.timeIntervalSince1970)
    }

    /// A direction's display name (jobs whose agent has not declared one have none).
    static func label(_ direction: String) -> String { direction.isEmpty ? "(undeclared)" : direction }
}
